//! The union-find (disjoint-set forest) that linking runs on, and that coherence, operators
//! and reports use for their own small groupings.

/// A union-find over `u32` elements: a thin wrapper over petgraph's `UnionFind` (union by rank,
/// path splitting, unchecked indexing behind its own bounds assertion), which measured faster
/// than a safe hand-written forest (see BENCHMARKS.md).
#[derive(Clone, Debug)]
pub(crate) struct UnionFind(petgraph::unionfind::UnionFind<u32>);

impl UnionFind {
    /// `n` singletons.
    pub(crate) fn new(n: usize) -> Self {
        Self(petgraph::unionfind::UnionFind::new(n))
    }

    /// The representative of `x`.
    #[inline]
    pub(crate) fn find(&mut self, x: u32) -> u32 {
        self.0.find_mut(x)
    }

    /// Joins the sets of `a` and `b`; returns true when they were separate.
    #[inline]
    pub(crate) fn union(&mut self, a: u32, b: u32) -> bool {
        self.0.union(a, b)
    }

    /// The representative (root) of every element.
    pub(crate) fn roots(self) -> Vec<u32> {
        self.0.into_labeling()
    }
}

#[cfg(test)]
mod tests {
    use super::UnionFind;

    #[test]
    fn unions_and_roots() {
        let mut uf = UnionFind::new(4);
        assert!(uf.union(3, 1));
        assert!(!uf.union(1, 3));
        assert_eq!(uf.find(1), uf.find(3));
        assert_ne!(uf.find(0), uf.find(1));
        let roots = uf.roots();
        assert_eq!(roots[1], roots[3]);
        assert_ne!(roots[0], roots[2]);
    }
}
