//! The control graph of a flow's steps, and the questions the checks ask of it: which steps a
//! run can reach, what every path to a step passes through (dominators), and which loops have
//! no way out.
//!
//! Nodes are the steps in file order and the end of the flow (node `n`). Each step has one
//! `Success` edge (to its `next:` or the following step) and may have a `Skip` edge (its
//! `when:` is false), a `Continue` edge (`on_error: continue`) or a `Jump` edge
//! (`on_error: STEP`). A variable a step sets is set on its `Success` edge only.
//!
//! Every question is answered in time near-linear in the number of steps, so that checking a
//! long flow is not quadratic: "is `x` set on every path to step `j`" is "does the `Success`
//! edge of the step that sets `x` dominate `j`", one comparison of two numbers once the
//! dominator tree is numbered.

/// How a run leaves a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EdgeKind {
    /// The step succeeded: to its `next:` or the following step.
    Success,
    /// Its `when:` was false: to the following step.
    Skip,
    /// It failed with `on_error: continue`: to its `next:` or the following step.
    Continue,
    /// It failed with `on_error: STEP`.
    Jump,
}

/// One edge out of a step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    /// The step it leads to (`n` for the end of the flow).
    pub to: usize,
    /// Why the run takes it.
    pub kind: EdgeKind,
}

/// The control graph, with its dominator tree numbered for O(1) queries.
pub(crate) struct ControlGraph {
    steps: usize,
    /// Out-edges of each step.
    edges: Vec<Vec<Edge>>,
    /// The graph with every edge split by a node of its own: steps and the end are `0..=n`,
    /// edge `k` (in the order of `edges`, flattened) is `n + 1 + k`. A variable set on an edge
    /// is then set at a node, and "set on every path" is a dominator question.
    succ: Vec<Vec<usize>>,
    /// The split node of each step's `Success` edge.
    success_node: Vec<usize>,
    /// Preorder entry and exit numbers in the dominator tree; `None` for unreachable nodes.
    interval: Vec<Option<(usize, usize)>>,
}

impl ControlGraph {
    /// Builds the graph from each step's out-edges (`edges[i]` for step `i`; every step has
    /// exactly one `Success` edge).
    pub(crate) fn new(edges: Vec<Vec<Edge>>) -> ControlGraph {
        let steps = edges.len();
        let total_edges: usize = edges.iter().map(Vec::len).sum();
        let nodes = steps + 1 + total_edges;
        let mut succ = vec![Vec::new(); nodes];
        let mut success_node = vec![0; steps];
        let mut next_edge = steps + 1;
        for (i, out) in edges.iter().enumerate() {
            for e in out {
                succ[i].push(next_edge);
                succ[next_edge].push(e.to);
                if e.kind == EdgeKind::Success {
                    success_node[i] = next_edge;
                }
                next_edge += 1;
            }
        }
        let interval = dominator_intervals(&succ);
        ControlGraph {
            steps,
            edges,
            succ,
            success_node,
            interval,
        }
    }

    /// The out-edges of step `i`.
    pub(crate) fn edges(&self, i: usize) -> &[Edge] {
        &self.edges[i]
    }

    /// Whether a run can reach step `j` (or the end, `j == n`).
    pub(crate) fn reachable(&self, j: usize) -> bool {
        self.interval[j].is_some()
    }

    /// Whether every path from the start to `j` passes through node `a` (`a` may be `j`).
    fn dominates(&self, a: usize, j: usize) -> bool {
        match (self.interval[a], self.interval[j]) {
            (Some((a_in, a_out)), Some((j_in, j_out))) => a_in <= j_in && j_out <= a_out,
            _ => false,
        }
    }

    /// Whether every path to step `j` runs step `i` first (so `<<steps.i...>>` is readable).
    pub(crate) fn runs_before(&self, i: usize, j: usize) -> bool {
        i != j && self.dominates(i, j)
    }

    /// Whether every path to step `j` passes through step `i` succeeding (so what `i` sets is
    /// set).
    pub(crate) fn succeeds_before(&self, i: usize, j: usize) -> bool {
        self.dominates(self.success_node[i], j)
    }

    /// For a variable set by several steps: which nodes a run can reach without any of
    /// `setters` succeeding. The variable is set at a reachable step exactly when that step is
    /// not in this set.
    pub(crate) fn reachable_without(&self, setters: &[usize]) -> Vec<bool> {
        let mut blocked = vec![false; self.succ.len()];
        for &s in setters {
            blocked[self.success_node[s]] = true;
        }
        let mut seen = vec![false; self.succ.len()];
        let mut stack = vec![0];
        seen[0] = true;
        while let Some(v) = stack.pop() {
            for &w in &self.succ[v] {
                if !seen[w] && !blocked[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        seen.truncate(self.steps + 1);
        seen
    }

    /// Loops a run can never leave: sets of steps, each in file order, that are strongly
    /// connected through a cycle and have no edge out of the set (no `when:` that skips out,
    /// no `on_error:` that leads out, no step that falls through to the end). Only loops a run
    /// can reach are given.
    pub(crate) fn closed_loops(&self) -> Vec<Vec<usize>> {
        let n = self.steps;
        let adjacency: Vec<Vec<usize>> = (0..=n)
            .map(|i| {
                if i == n {
                    Vec::new()
                } else {
                    self.edges[i].iter().map(|e| e.to).collect()
                }
            })
            .collect();
        let component = strongly_connected(&adjacency);
        let count = component.iter().max().map_or(0, |m| m + 1);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut leaves = vec![false; count];
        let mut cyclic = vec![false; count];
        for (i, out) in adjacency.iter().enumerate() {
            let c = component[i];
            members[c].push(i);
            for &to in out {
                if component[to] != c {
                    leaves[c] = true;
                } else {
                    cyclic[c] = true;
                }
            }
        }
        (0..count)
            .filter(|&c| cyclic[c] && !leaves[c] && self.reachable(members[c][0]))
            .map(|c| members[c].clone())
            .collect()
    }
}

/// The dominator tree of the graph `succ` from node 0 (Cooper, Harvey and Kennedy's iterative
/// algorithm over reverse postorder), as preorder (entry, exit) numbers per node, so that "a
/// dominates b" is two comparisons. Unreachable nodes get `None`.
fn dominator_intervals(succ: &[Vec<usize>]) -> Vec<Option<(usize, usize)>> {
    let nodes = succ.len();
    // Postorder by an explicit stack: a flow may have tens of thousands of steps.
    let mut post_number = vec![usize::MAX; nodes];
    let mut order = Vec::with_capacity(nodes);
    let mut visited = vec![false; nodes];
    let mut stack = vec![(0usize, 0usize)];
    visited[0] = true;
    while let Some((v, next)) = stack.last_mut() {
        if let Some(&w) = succ[*v].get(*next) {
            *next += 1;
            if !visited[w] {
                visited[w] = true;
                stack.push((w, 0));
            }
        } else {
            post_number[*v] = order.len();
            order.push(*v);
            stack.pop();
        }
    }
    let mut preds = vec![Vec::new(); nodes];
    for (v, out) in succ.iter().enumerate() {
        if visited[v] {
            for &w in out {
                preds[w].push(v);
            }
        }
    }
    let mut idom = vec![usize::MAX; nodes];
    idom[0] = 0;
    let mut changed = true;
    while changed {
        changed = false;
        for &v in order.iter().rev().skip(1) {
            let mut new = usize::MAX;
            for &p in &preds[v] {
                if idom[p] == usize::MAX {
                    continue;
                }
                new = if new == usize::MAX {
                    p
                } else {
                    intersect(&idom, &post_number, p, new)
                };
            }
            if new != idom[v] {
                idom[v] = new;
                changed = true;
            }
        }
    }
    let mut children = vec![Vec::new(); nodes];
    for &v in &order {
        if v != 0 {
            children[idom[v]].push(v);
        }
    }
    let mut interval = vec![None; nodes];
    let mut clock = 0;
    let mut entry = vec![0; nodes];
    let mut stack = vec![(0usize, 0usize)];
    entry[0] = clock;
    clock += 1;
    while let Some((v, next)) = stack.last_mut() {
        if let Some(&c) = children[*v].get(*next) {
            *next += 1;
            entry[c] = clock;
            clock += 1;
            stack.push((c, 0));
        } else {
            interval[*v] = Some((entry[*v], clock));
            stack.pop();
        }
    }
    interval
}

fn intersect(idom: &[usize], post: &[usize], mut a: usize, mut b: usize) -> usize {
    while a != b {
        while post[a] < post[b] {
            a = idom[a];
        }
        while post[b] < post[a] {
            b = idom[b];
        }
    }
    a
}

/// The strongly connected component of each node (Tarjan's algorithm, without recursion).
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<usize> {
    let nodes = adjacency.len();
    let mut index = vec![usize::MAX; nodes];
    let mut low = vec![0; nodes];
    let mut on_stack = vec![false; nodes];
    let mut component = vec![usize::MAX; nodes];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut components = 0;
    for root in 0..nodes {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            if let Some(&w) = adjacency[v].get(*next) {
                *next += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = components;
                    if w == v {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success(to: usize) -> Edge {
        Edge {
            to,
            kind: EdgeKind::Success,
        }
    }

    fn skip(to: usize) -> Edge {
        Edge {
            to,
            kind: EdgeKind::Skip,
        }
    }

    #[test]
    fn a_step_guarded_by_when_does_not_set_its_variables_for_later_steps() {
        // 0 (when) -> 1 -> end
        let g = ControlGraph::new(vec![vec![success(1), skip(1)], vec![success(2)]]);
        assert!(g.runs_before(0, 1));
        assert!(!g.succeeds_before(0, 1));
        assert!(g.succeeds_before(1, 2));
        assert!(g.reachable(2));
    }

    #[test]
    fn a_variable_set_on_both_branches_is_set_after_them() {
        // 0 (when) -> 1 next 3; 0 skipped -> 1? No: 0 jumps: success to 1, skip to 2.
        // 1 -> 3, 2 -> 3, 3 -> end. Steps 1 and 2 both set the variable.
        let g = ControlGraph::new(vec![
            vec![success(1), skip(2)],
            vec![success(3)],
            vec![success(3)],
            vec![success(4)],
        ]);
        assert!(!g.succeeds_before(1, 3));
        let without = g.reachable_without(&[1, 2]);
        assert!(!without[3], "every path to 3 passes a setter");
        assert!(without[1] && without[2]);
    }

    #[test]
    fn loops_without_a_way_out_are_found_and_loops_with_one_are_not() {
        // 0 -> 1 -> 0 (closed); 2 unreachable.
        let g = ControlGraph::new(vec![vec![success(1)], vec![success(0)], vec![success(3)]]);
        assert_eq!(g.closed_loops(), vec![vec![0, 1]]);
        assert!(!g.reachable(2));
        // 0 -> 0 with a `when:` that skips to the end.
        let g = ControlGraph::new(vec![vec![success(0), skip(1)]]);
        assert!(g.closed_loops().is_empty());
        // A self-loop.
        let g = ControlGraph::new(vec![vec![success(0)]]);
        assert_eq!(g.closed_loops(), vec![vec![0]]);
    }

    #[test]
    fn a_long_chain_is_handled_without_recursion() {
        let n = 200_000;
        let g = ControlGraph::new((0..n).map(|i| vec![success(i + 1)]).collect());
        assert!(g.succeeds_before(0, n));
        assert!(g.runs_before(n / 2, n - 1));
        assert!(g.closed_loops().is_empty());
    }
}
