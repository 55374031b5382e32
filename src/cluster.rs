//! Clustering: a partition of accounts into clusters, with members listed per cluster.
//!
//! Used for both levels of the pipeline: linked components (union-find) and operators
//! (communities). Labels are canonical: cluster ids run `0..len` in order of each cluster's
//! smallest account id. Members are kept as one CSR array (4 bytes per account plus 4 per
//! cluster), and handed out as sorted slices or as an [`AccountSet`].

use crate::id::{AccountId, ClusterId};
use crate::set::AccountSet;

/// A partition of accounts; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use sellerlink::{AccountId, ClusterId, cluster::Clustering};
/// let c = Clustering::from_labels(vec![7, 3, 7, 9]);
/// assert_eq!(c.len(), 3);
/// assert_eq!(c.cluster_of(AccountId::must(2)), Some(ClusterId::must(0)));
/// assert_eq!(c.members(ClusterId::must(0)), &[0, 2]);
/// assert_eq!(c.largest(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clustering {
    of: Vec<u32>,
    offsets: Vec<u32>,
    members: Vec<u32>,
}

impl Clustering {
    /// Builds a clustering from any labels (one per account); labels are renumbered canonically.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::cluster::Clustering;
    /// let c = Clustering::from_labels(vec![5, 5, 1]);
    /// assert_eq!(c.labels(), &[0, 0, 1]);
    /// ```
    pub fn from_labels(labels: Vec<u32>) -> Clustering {
        let mut map: ahash::AHashMap<u32, u32> = ahash::AHashMap::new();
        let mut of = labels;
        let dense = of.iter().all(|&l| (l as usize) < of.len());
        if dense {
            let mut remap = vec![u32::MAX; of.len()];
            let mut next = 0;
            for l in of.iter_mut() {
                let r = &mut remap[*l as usize];
                if *r == u32::MAX {
                    *r = next;
                    next += 1;
                }
                *l = *r;
            }
        } else {
            for l in of.iter_mut() {
                let next = map.len() as u32;
                *l = *map.entry(*l).or_insert(next);
            }
        }
        let k = of.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        // Each account is a row with one target, its label: members are the transpose.
        let rows: Vec<u32> = (0..=of.len() as u32).collect();
        let (offsets, members) = crate::graph::transpose(&rows, &of, k);
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

    /// True when there are no accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::cluster::Clustering::from_labels(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }

    /// Number of accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::cluster::Clustering::from_labels(vec![0, 0]).account_count(), 2);
    /// ```
    pub fn account_count(&self) -> usize {
        self.of.len()
    }

    /// The canonical label of every account.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::cluster::Clustering::from_labels(vec![4, 2]).labels(), &[0, 1]);
    /// ```
    pub fn labels(&self) -> &[u32] {
        &self.of
    }

    /// The cluster of an account, or `None` when out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, cluster::Clustering};
    /// assert!(Clustering::from_labels(vec![0]).cluster_of(AccountId::must(1)).is_none());
    /// ```
    pub fn cluster_of(&self, a: AccountId) -> Option<ClusterId> {
        self.of.get(a.as_usize()).map(|&c| ClusterId::from_u32(c))
    }

    /// The members of a cluster, sorted (empty when out of range).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{ClusterId, cluster::Clustering};
    /// assert_eq!(Clustering::from_labels(vec![0, 1, 0]).members(ClusterId::must(0)), &[0, 2]);
    /// ```
    pub fn members(&self, c: ClusterId) -> &[u32] {
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
