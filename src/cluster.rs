//! Clustering: a partition of accounts into clusters, with members listed per cluster.
//!
//! Used for both levels of the pipeline: linked components (union-find) and operators
//! (communities). Labels are canonical: cluster ids run `0..len` in order of each cluster's
//! first member in account-name order, so the same observations give the same cluster ids
//! whatever their input order, and an updated index numbers its clusters as one build from the
//! same observations would. Members are kept as one CSR array (4 bytes per account plus 4 per
//! cluster), sorted by id, and handed out as typed slices or as an [`AccountSet`]. An account
//! slot that an update left unused belongs to no cluster.

use crate::id::{AccountId, ClusterId};
use crate::intern::NameOrder;
use crate::set::AccountSet;

/// The label of an account slot that belongs to no cluster.
pub(crate) const NO_CLUSTER: u32 = u32::MAX;

/// A partition of accounts; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use sellerlink::{AccountId, ClusterId, cluster::Clustering};
/// let c = Clustering::from_labels(vec![7, 3, 7, 9]);
/// assert_eq!(c.len(), 3);
/// assert_eq!(c.cluster_of(AccountId::must(2)), Some(ClusterId::must(0)));
/// assert_eq!(c.members(ClusterId::must(0)), &[AccountId::must(0), AccountId::must(2)]);
/// assert_eq!(c.largest(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clustering {
    of: Vec<u32>,
    offsets: Vec<u32>,
    members: Vec<AccountId>,
}

impl Clustering {
    /// Builds a clustering from any labels, one per account (account ids `0..labels.len()`);
    /// clusters are numbered in order of their smallest account id.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, ClusterId, cluster::Clustering};
    /// let c = Clustering::from_labels(vec![5, 5, 1]);
    /// assert_eq!(c.cluster_of(AccountId::must(2)), Some(ClusterId::must(1)));
    /// ```
    pub fn from_labels(labels: Vec<u32>) -> Clustering {
        let n = labels.len();
        Self::canonical(labels, &NameOrder::identity(n))
    }

    /// Builds a clustering from labels per account slot, numbering clusters in order of their
    /// first member in `order`; slots that `order` leaves out belong to no cluster.
    pub(crate) fn canonical(labels: Vec<u32>, order: &NameOrder) -> Clustering {
        let mut of = labels;
        let k = if order.is_identity() {
            compact_labels(&mut of)
        } else {
            let mut map: ahash::AHashMap<u32, u32> = ahash::AHashMap::new();
            let mut out = vec![NO_CLUSTER; of.len()];
            for a in order.iter(of.len()) {
                let next = map.len() as u32;
                out[a.as_usize()] = *map.entry(of[a.as_usize()]).or_insert(next);
            }
            of = out;
            map.len()
        };

        // Members are the transpose of "account → its label", accounts in id order.
        let mut offsets = vec![0u32; k + 1];
        for &l in &of {
            if l != NO_CLUSTER {
                offsets[l as usize + 1] += 1;
            }
        }
        for c in 0..k {
            offsets[c + 1] += offsets[c];
        }
        let mut fill = offsets.clone();
        let mut members = vec![AccountId::from_u32(0); offsets[k] as usize];
        for (a, &l) in of.iter().enumerate() {
            if l != NO_CLUSTER {
                let slot = &mut fill[l as usize];
                members[*slot as usize] = AccountId::from_u32(a as u32);
                *slot += 1;
            }
        }
        Clustering { of, offsets, members }
    }

    /// Number of clusters.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::cluster::Clustering::from_labels(vec![0, 1]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no clusters.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::cluster::Clustering::from_labels(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of accounts in clusters.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::cluster::Clustering::from_labels(vec![0, 0]).account_count(), 2);
    /// ```
    pub fn account_count(&self) -> usize {
        self.members.len()
    }

    /// The label of every account slot ([`NO_CLUSTER`] for an unused one), for the crate's
    /// stages and snapshots.
    pub(crate) fn labels(&self) -> &[u32] {
        &self.of
    }

    /// The cluster of an account, or `None` when it is out of range or in no cluster.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, cluster::Clustering};
    /// assert!(Clustering::from_labels(vec![0]).cluster_of(AccountId::must(1)).is_none());
    /// ```
    pub fn cluster_of(&self, a: AccountId) -> Option<ClusterId> {
        self.of.get(a.as_usize()).filter(|&&c| c != NO_CLUSTER).map(|&c| ClusterId::from_u32(c))
    }

    /// The members of a cluster, sorted by id (empty when out of range).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, ClusterId, cluster::Clustering};
    /// let c = Clustering::from_labels(vec![0, 1, 0]);
    /// assert_eq!(c.members(ClusterId::must(0)), &[AccountId::must(0), AccountId::must(2)]);
    /// ```
    pub fn members(&self, c: ClusterId) -> &[AccountId] {
        let i = c.as_usize();
        if i + 1 >= self.offsets.len() {
            return &[];
        }
        &self.members[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// The members of a cluster as an [`AccountSet`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{ClusterId, cluster::Clustering};
    /// assert_eq!(Clustering::from_labels(vec![0, 1, 0]).member_set(ClusterId::must(0)).len(), 2);
    /// ```
    pub fn member_set(&self, c: ClusterId) -> AccountSet {
        AccountSet::from_sorted(self.members(c))
    }

    /// Size of a cluster.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{ClusterId, cluster::Clustering};
    /// assert_eq!(Clustering::from_labels(vec![0, 1, 0]).size(ClusterId::must(1)), 1);
    /// ```
    pub fn size(&self, c: ClusterId) -> usize {
        self.members(c).len()
    }

    /// Size of the largest cluster (0 when empty).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::cluster::Clustering::from_labels(vec![1, 1, 0]).largest(), 2);
    /// ```
    pub fn largest(&self) -> usize {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) as usize).max().unwrap_or(0)
    }

    /// Cluster ids ordered by size, largest first (ties by id).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::cluster::Clustering;
    /// let c = Clustering::from_labels(vec![0, 1, 1]);
    /// assert_eq!(c.by_size().first().map(|c| c.as_u32()), Some(1));
    /// ```
    pub fn by_size(&self) -> Vec<ClusterId> {
        let mut ids: Vec<ClusterId> = (0..self.len()).map(ClusterId::must).collect();
        ids.sort_by_key(|&c| (std::cmp::Reverse(self.size(c)), c));
        ids
    }

    /// The clusters in id order, each with its members.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::cluster::Clustering;
    /// let c = Clustering::from_labels(vec![0, 1, 0]);
    /// let sizes: Vec<usize> = c.iter().map(|(_, members)| members.len()).collect();
    /// assert_eq!(sizes, [2, 1]);
    /// ```
    pub fn iter(&self) -> Clusters<'_> {
        Clusters { clustering: self, next: 0 }
    }

    /// Heap bytes held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::cluster::Clustering::from_labels(vec![0; 10]).heap_bytes() >= 40);
    /// ```
    pub fn heap_bytes(&self) -> usize {
        4 * (self.of.capacity() + self.offsets.capacity() + self.members.capacity())
    }
}

impl<'c> IntoIterator for &'c Clustering {
    type Item = (ClusterId, &'c [AccountId]);
    type IntoIter = Clusters<'c>;

    fn into_iter(self) -> Clusters<'c> {
        self.iter()
    }
}

/// The clusters of a [`Clustering`] in id order, with their members; see [`Clustering::iter`].
///
/// # Examples
///
/// See [`Clustering::iter`].
#[derive(Clone, Debug)]
pub struct Clusters<'c> {
    clustering: &'c Clustering,
    next: usize,
}

impl<'c> Iterator for Clusters<'c> {
    type Item = (ClusterId, &'c [AccountId]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.clustering.len() {
            return None;
        }
        let c = ClusterId::from_u32(self.next as u32);
        self.next += 1;
        Some((c, self.clustering.members(c)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.clustering.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Clusters<'_> {}

/// Renumbers arbitrary labels to `0..k` in order of first appearance; returns `k`.
pub(crate) fn compact_labels(labels: &mut [u32]) -> usize {
    let n = labels.len();
    let max = labels.iter().copied().max().map_or(0, |m| m as usize);
    if max < n.saturating_mul(4).saturating_add(1024) {
        renumber(labels)
    } else {
        let mut map: ahash::AHashMap<u32, u32> = ahash::AHashMap::with_capacity(n.min(1 << 20));
        for label in labels.iter_mut() {
            let next = map.len() as u32;
            *label = *map.entry(*label).or_insert(next);
        }
        map.len()
    }
}

/// Renumbers labels (all below a modest bound) to `0..k` in order of first appearance.
pub(crate) fn renumber(labels: &mut [u32]) -> usize {
    let max = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut map = vec![u32::MAX; max];
    let mut k = 0u32;
    for label in labels.iter_mut() {
        let slot = &mut map[*label as usize];
        if *slot == u32::MAX {
            *slot = k;
            k += 1;
        }
        *label = *slot;
    }
    k as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_follows_the_name_order() {
        // Accounts 0..4; names order them 3, 1, 0 (slot 2 unused).
        let order = NameOrder::from_by_name(vec![3, 1, 0], 4);
        let c = Clustering::canonical(vec![9, 5, 7, 5], &order);
        assert_eq!(c.len(), 2);
        assert_eq!(c.cluster_of(AccountId::must(3)), Some(ClusterId::must(0)));
        assert_eq!(c.cluster_of(AccountId::must(1)), Some(ClusterId::must(0)));
        assert_eq!(c.cluster_of(AccountId::must(0)), Some(ClusterId::must(1)));
        assert_eq!(c.cluster_of(AccountId::must(2)), None);
        assert_eq!(c.members(ClusterId::must(0)), &[AccountId::must(1), AccountId::must(3)]);
        assert_eq!(c.account_count(), 3);
    }
}
