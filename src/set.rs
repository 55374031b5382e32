//! Account sets: the result type of every lookup, a compressed bitmap of account ids.
//!
//! [`AccountSet`] wraps a Roaring bitmap so that Roaring's 0.x releases are not our API; it
//! converts to and from the raw `RoaringBitmap` for users who want it. Set algebra is by
//! operators (`&`, `|`, `-`, `^`) on references or values.

use core::ops::{BitAnd, BitOr, BitXor, Sub};

use roaring::RoaringBitmap;

use crate::id::AccountId;

/// A set of accounts.
///
/// # Examples
///
/// ```
/// use sellerlink::{AccountId, AccountSet};
/// let a: AccountSet = [1u32, 2, 3].into_iter().map(AccountId::from_u32).collect();
/// let b: AccountSet = [2u32, 3, 4].into_iter().map(AccountId::from_u32).collect();
/// assert_eq!((&a & &b).len(), 2);
/// assert_eq!((&a | &b).len(), 4);
/// assert_eq!((&a - &b).iter().collect::<Vec<_>>(), vec![AccountId::from_u32(1)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSet(RoaringBitmap);

impl AccountSet {
    /// The empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::AccountSet::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self(RoaringBitmap::new())
    }

    /// A set from ids sorted ascending (duplicates are allowed); other input is handled too,
    /// only more slowly.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, AccountSet};
    /// let ids = [1, 1, 5].map(AccountId::must);
    /// assert_eq!(AccountSet::from_sorted(&ids).len(), 2);
    /// assert_eq!(AccountSet::from_sorted(&[AccountId::must(5), AccountId::must(1)]).len(), 2);
    /// ```
    pub fn from_sorted(ids: &[AccountId]) -> Self {
        let mut bm = RoaringBitmap::new();
        if ids.windows(2).all(|w| w[0] <= w[1]) {
            let mut prev = None;
            let dedup = ids.iter().map(|a| a.as_u32()).filter(|&x| {
                let keep = prev != Some(x);
                prev = Some(x);
                keep
            });
            // Sorted and deduplicated: cannot fail.
            let _ = bm.append(dedup);
        } else {
            bm.extend(ids.iter().map(|a| a.as_u32()));
        }
        Self(bm)
    }

    /// Number of accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::AccountSet::from_sorted(&[sellerlink::AccountId::must(3)]).len(), 1);
    /// ```
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// True when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::AccountSet::from_sorted(&[3].map(sellerlink::AccountId::must)).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `a` is in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, AccountSet};
    /// assert!(AccountSet::from_sorted(&[3].map(sellerlink::AccountId::must)).contains(AccountId::from_u32(3)));
    /// ```
    pub fn contains(&self, a: AccountId) -> bool {
        self.0.contains(a.as_u32())
    }

    /// Adds an account; true when it was new.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, AccountSet};
    /// let mut s = AccountSet::new();
    /// assert!(s.insert(AccountId::from_u32(1)));
    /// assert!(!s.insert(AccountId::from_u32(1)));
    /// ```
    pub fn insert(&mut self, a: AccountId) -> bool {
        self.0.insert(a.as_u32())
    }

    /// Removes an account; true when it was present.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, AccountSet};
    /// let mut s = AccountSet::from_sorted(&[1].map(sellerlink::AccountId::must));
    /// assert!(s.remove(AccountId::from_u32(1)));
    /// ```
    pub fn remove(&mut self, a: AccountId) -> bool {
        self.0.remove(a.as_u32())
    }

    /// The accounts in ascending id order.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sellerlink::AccountSet::from_sorted(&[4, 2].map(sellerlink::AccountId::must));
    /// assert_eq!(s.iter().map(|a| a.as_u32()).collect::<Vec<_>>(), vec![2, 4]);
    /// ```
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.iter())
    }

    /// Size of the intersection, without building it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::AccountSet;
    /// assert_eq!(AccountSet::from_sorted(&[1, 2].map(sellerlink::AccountId::must)).intersection_len(&AccountSet::from_sorted(&[2, 3].map(sellerlink::AccountId::must))), 1);
    /// ```
    pub fn intersection_len(&self, other: &AccountSet) -> u64 {
        self.0.intersection_len(&other.0)
    }

    /// The raw Roaring bitmap.
    ///
    /// # Examples
    ///
    /// ```
    /// let bm = sellerlink::AccountSet::from_sorted(&[1].map(sellerlink::AccountId::must)).into_bitmap();
    /// assert!(bm.contains(1));
    /// ```
    pub fn into_bitmap(self) -> RoaringBitmap {
        self.0
    }

    /// A borrowed view of the raw bitmap.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::AccountSet::from_sorted(&[1].map(sellerlink::AccountId::must)).as_bitmap().len(), 1);
    /// ```
    pub fn as_bitmap(&self) -> &RoaringBitmap {
        &self.0
    }
}

impl From<RoaringBitmap> for AccountSet {
    fn from(bm: RoaringBitmap) -> Self {
        Self(bm)
    }
}

impl From<AccountSet> for RoaringBitmap {
    fn from(s: AccountSet) -> Self {
        s.0
    }
}

impl FromIterator<AccountId> for AccountSet {
    fn from_iter<I: IntoIterator<Item = AccountId>>(iter: I) -> Self {
        Self(iter.into_iter().map(AccountId::as_u32).collect())
    }
}

impl Extend<AccountId> for AccountSet {
    fn extend<I: IntoIterator<Item = AccountId>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(AccountId::as_u32));
    }
}

impl<'a> IntoIterator for &'a AccountSet {
    type Item = AccountId;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over an [`AccountSet`], ascending.
///
/// # Examples
///
/// See [`AccountSet::iter`].
#[derive(Clone)]
pub struct Iter<'a>(roaring::bitmap::Iter<'a>);

impl Iterator for Iter<'_> {
    type Item = AccountId;
    fn next(&mut self) -> Option<AccountId> {
        self.0.next().map(AccountId::from_u32)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

macro_rules! set_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl $tr<&AccountSet> for &AccountSet {
            type Output = AccountSet;
            fn $f(self, rhs: &AccountSet) -> AccountSet {
                AccountSet(&self.0 $op &rhs.0)
            }
        }
        impl $tr<AccountSet> for AccountSet {
            type Output = AccountSet;
            fn $f(self, rhs: AccountSet) -> AccountSet {
                AccountSet(self.0 $op rhs.0)
            }
        }
        impl $tr<&AccountSet> for AccountSet {
            type Output = AccountSet;
            fn $f(self, rhs: &AccountSet) -> AccountSet {
                AccountSet(self.0 $op &rhs.0)
            }
        }
    };
}
set_op!(BitAnd, bitand, &);
set_op!(BitOr, bitor, |);
set_op!(Sub, sub, -);
set_op!(BitXor, bitxor, ^);
