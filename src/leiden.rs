//! TEMPORARY compile shim (replaced by the real Leiden engine): connected components only.
#![allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Quality {
    #[default]
    Modularity,
    Cpm,
}
#[derive(Debug)]
pub struct GraphError;
impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bad graph")
    }
}
impl std::error::Error for GraphError {}
pub struct WeightedGraph {
    n: usize,
    edges: Vec<(u32, u32, f64)>,
}
impl WeightedGraph {
    pub fn from_edges(
        n: usize,
        edges: impl IntoIterator<Item = (u32, u32, f64)>,
    ) -> Result<Self, GraphError> {
        let edges: Vec<_> = edges.into_iter().collect();
        if edges.iter().any(|&(u, v, w)| u as usize >= n || v as usize >= n || !w.is_finite() || w < 0.0) {
            return Err(GraphError);
        }
        Ok(Self { n, edges })
    }
}
#[derive(Clone, Debug, Default)]
pub struct Leiden;
impl Leiden {
    pub fn new() -> Self {
        Leiden
    }
    pub fn resolution(self, _: f64) -> Self {
        self
    }
    pub fn quality(self, _: Quality) -> Self {
        self
    }
    pub fn seed(self, _: u64) -> Self {
        self
    }
    pub fn run(&self, g: &WeightedGraph) -> Partition {
        let mut uf = crate::link::UnionFind::new(g.n);
        for &(u, v, _) in &g.edges {
            uf.union(u, v);
        }
        let m = uf.labels();
        let k = m.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
        Partition { m, k }
    }
}
pub struct Partition {
    m: Vec<u32>,
    k: usize,
}
impl Partition {
    pub fn membership(&self) -> &[u32] {
        &self.m
    }
    pub fn community_count(&self) -> usize {
        self.k
    }
}
