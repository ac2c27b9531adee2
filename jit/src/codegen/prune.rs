//! Dead block-parameter pruning, run on each finished CLIF function before Cranelift compiles
//! it.
//!
//! `cranelift_frontend` turns every Kiln variable that is read after a join point into a block
//! parameter, even when the value arriving there is never used: a loop variable that the body
//! reassigns before reading, the temporaries of a tuple assignment, the old counter kept for
//! Python's "loop variable survives the loop". Cranelift removes parameters that always receive
//! the same value, but not dead ones, and regalloc2 still moves a value into every parameter
//! on every edge. In Mandelbrot's inner loop that was three extra register moves per iteration
//! (one of them on the `zr` dependency chain), about 10 % of its time.
//!
//! A parameter is live when an instruction other than a branch reads it, or when it is passed
//! to a live parameter. Everything else is removed, together with its argument on every edge.
//!
//! [`order_loop_params`] then orders the loop headers' parameters so that the register
//! allocator needs no moves on the back edge.

use cranelift_codegen::entity::EntitySet;
use cranelift_codegen::ir::{Block, BlockCall, Function, Value, ValueDef};

/// Removes every block parameter whose value is never used except to feed other dead
/// parameters (see the module docs). The entry block's parameters are the signature and stay.
pub fn prune_dead_block_params(func: &mut Function) {
    let Some(entry) = func.layout.entry_block() else {
        return;
    };
    func.dfg.resolve_all_aliases();

    let mut live: EntitySet<Value> = EntitySet::new();
    // (parameter, the value passed to it) for every edge argument.
    let mut edges: Vec<(Value, Value)> = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for &arg in func.dfg.inst_args(inst) {
                live.insert(arg);
            }
            let data = &func.dfg.insts[inst];
            for dest in data.branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables) {
                let params = func.dfg.block_params(dest.block(&func.dfg.value_lists));
                for (i, arg) in dest.args(&func.dfg.value_lists).enumerate() {
                    match arg.as_value() {
                        Some(v) => edges.push((params[i], v)),
                        // A call's results or exception payload: keep the parameter.
                        None => {
                            live.insert(params[i]);
                        }
                    }
                }
            }
            if data.exception_table().is_some() {
                // Kiln emits no `try_call`; leave such a function as it is.
                return;
            }
        }
    }
    // Liveness flows backwards along edges until nothing changes (loops need a few passes).
    let mut changed = true;
    while changed {
        changed = false;
        for &(param, arg) in &edges {
            if live.contains(param) && !live.contains(arg) {
                live.insert(arg);
                changed = true;
            }
        }
    }

    let is_dead = |v: Value, func: &Function| {
        !live.contains(v) && matches!(func.dfg.value_def(v), ValueDef::Param(b, _) if b != entry)
    };
    let blocks: Vec<Block> = func.layout.blocks().collect();
    let mut any_dead = false;
    for &block in &blocks {
        any_dead |= func
            .dfg
            .block_params(block)
            .iter()
            .any(|&p| is_dead(p, func));
    }
    if !any_dead {
        return;
    }

    // Drop the arguments first, while the parameter lists still give each argument's index.
    let mut kept = Vec::new();
    for &block in &blocks {
        let insts: Vec<_> = func.layout.block_insts(block).collect();
        for inst in insts {
            let ndest = func.dfg.insts[inst]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                .len();
            for d in 0..ndest {
                let dfg = &func.dfg;
                let call =
                    dfg.insts[inst].branch_destination(&dfg.jump_tables, &dfg.exception_tables)[d];
                let target = call.block(&dfg.value_lists);
                let params = dfg.block_params(target);
                if !params.iter().any(|&p| is_dead(p, func)) {
                    continue;
                }
                kept.clear();
                kept.extend(
                    call.args(&dfg.value_lists)
                        .zip(params)
                        .filter(|&(_, &p)| !is_dead(p, func))
                        .map(|(arg, _)| arg),
                );
                let dfg = &mut func.dfg;
                let new_call = BlockCall::new(target, kept.drain(..), &mut dfg.value_lists);
                dfg.insts[inst]
                    .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)[d] =
                    new_call;
            }
        }
    }
    for &block in &blocks {
        let dead: Vec<Value> = func
            .dfg
            .block_params(block)
            .iter()
            .copied()
            .filter(|&p| is_dead(p, func))
            .collect();
        for p in dead {
            func.dfg.remove_block_param(p);
        }
    }
}

/// Reorders `block`'s parameters: new position `i` holds old parameter `order[i]`; every
/// branch to `block` passes its arguments in the new order.
pub fn permute_block_params(func: &mut Function, block: Block, order: &[usize]) {
    let old: Vec<Value> = func.dfg.block_params(block).to_vec();
    debug_assert_eq!(old.len(), order.len());
    for &p in &old {
        func.dfg.remove_block_param(p);
    }
    for &k in order {
        func.dfg.attach_block_param(block, old[k]);
    }
    let blocks: Vec<Block> = func.layout.blocks().collect();
    for b in blocks {
        let insts: Vec<_> = func.layout.block_insts(b).collect();
        for inst in insts {
            let dfg = &mut func.dfg;
            for call in dfg.insts[inst]
                .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)
            {
                if call.block(&dfg.value_lists) != block {
                    continue;
                }
                let args: Vec<_> = call.args(&dfg.value_lists).collect();
                *call = BlockCall::new(block, order.iter().map(|&k| args[k]), &mut dfg.value_lists);
            }
        }
    }
}

/// Orders each loop header's parameters so that the back edge computes first the values
/// that still read the current iteration's ones.
///
/// Cranelift's egraph places a pure computation at its first use, and a back edge's
/// arguments are elaborated in parameter order. In Mandelbrot's loop,
/// `zr, zi = zr*zr - zi*zi + cr, 2*zr*zi + ci` came out with the new `zr` computed while the
/// old one was still needed for `2*zr*zi`, so both were live at once and every iteration ended with a register move
/// and an extra jump (the split back edge). Computing `zi` first lets each new value take its
/// old one's register: the loop ends in one compare-and-branch, as LLVM's does.
///
/// Rule: on a header's single back edge, argument `j` goes before argument `i` when the
/// computation of `j`, as far as it is made only for this edge, reads the header's parameter
/// `i`. Headers whose rule has a cycle keep their order. Only the order of parameters
/// changes, never a value, so this cannot change what the program computes.
pub fn order_loop_params(func: &mut Function) {
    use cranelift_codegen::ir::{Inst, InstructionData};
    use std::collections::HashMap;

    let is_pure = |func: &Function, inst: Inst| {
        let op = func.dfg.insts[inst].opcode();
        !(op.is_call()
            || op.is_branch()
            || op.is_terminator()
            || op.can_load()
            || op.can_store()
            || op.can_trap()
            || op.other_side_effects())
    };
    // Identical pure computations are one value to the egraph (it merges them before placing
    // anything), so they are one value here too: `canon` maps each to the first one.
    let mut canon: HashMap<Value, Value> = HashMap::new();
    let mut first: HashMap<InstructionData, Value> = HashMap::new();
    let mut scratch = cranelift_codegen::ir::ValueListPool::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let mut data = func.dfg.insts[inst];
            let simple = matches!(
                data,
                InstructionData::Binary { .. }
                    | InstructionData::Unary { .. }
                    | InstructionData::FloatCompare { .. }
                    | InstructionData::IntCompare { .. }
                    | InstructionData::Ternary { .. }
            );
            if !simple || !is_pure(func, inst) || func.dfg.inst_results(inst).len() != 1 {
                continue;
            }
            // These formats keep their operands inline: the scratch pool is never touched.
            for a in data.arguments_mut(&mut scratch) {
                *a = *canon.get(a).unwrap_or(a);
            }
            let r = func.dfg.first_result(inst);
            let c = *first.entry(data).or_insert(r);
            canon.insert(r, c);
        }
    }
    let cv = |v: Value| *canon.get(&v).unwrap_or(&v);
    // Every instruction that uses each (canonical) value.
    let mut users: HashMap<Value, Vec<Inst>> = HashMap::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for v in func.dfg.inst_values(inst) {
                users.entry(cv(v)).or_default().push(inst);
            }
        }
    }
    // One back edge's view: which values are computed only for it, and what they read.
    struct Edge<'a> {
        func: &'a Function,
        users: &'a HashMap<Value, Vec<Inst>>,
        canon: &'a HashMap<Value, Value>,
        is_pure: &'a dyn Fn(&Function, Inst) -> bool,
        edge: Inst,
        private: HashMap<Value, bool>,
    }
    impl Edge<'_> {
        fn canon(&self, v: Value) -> Value {
            *self.canon.get(&v).unwrap_or(&v)
        }
        /// Whether (canonical) `v` is computed only for the branch, through pure instructions.
        fn private(&mut self, v: Value) -> bool {
            if let Some(&p) = self.private.get(&v) {
                return p;
            }
            let func = self.func;
            let p = match func.dfg.value_def(v) {
                ValueDef::Result(def, _) if (self.is_pure)(func, def) => {
                    // The map outlives `self`'s borrow: no copy of the list needed.
                    let users: &[Inst] = self.users.get(&v).map_or(&[], |u| u.as_slice());
                    !users.is_empty()
                        && users.iter().all(|&u| {
                            u == self.edge
                                || ((self.is_pure)(func, u)
                                    && func.dfg.inst_results(u).iter().all(|&r| {
                                        let r = self.canon(r);
                                        self.private(r)
                                    }))
                        })
                }
                _ => false,
            };
            self.private.insert(v, p);
            p
        }
        /// Adds to `out` the indices of the `params` that computing `v` for the branch reads.
        fn reads(
            &mut self,
            v: Value,
            params: &[Value],
            out: &mut Vec<usize>,
            seen: &mut std::collections::HashSet<Value>,
        ) {
            if !seen.insert(v) {
                return;
            }
            if let Some(k) = params.iter().position(|&p| p == v) {
                if !out.contains(&k) {
                    out.push(k);
                }
                return;
            }
            if !self.private(v) {
                return;
            }
            let ValueDef::Result(def, _) = self.func.dfg.value_def(v) else {
                return;
            };
            for &a in self.func.dfg.inst_args(def) {
                let a = self.canon(a);
                self.reads(a, params, out, seen);
            }
        }
    }

    // Back edges, in one pass: branches to a block laid out no later than their own.
    let blocks: Vec<Block> = func.layout.blocks().collect();
    let pos: HashMap<Block, usize> = blocks.iter().enumerate().map(|(k, &b)| (b, k)).collect();
    let mut back: HashMap<Block, Vec<(Inst, BlockCall)>> = HashMap::new();
    for (k, &b) in blocks.iter().enumerate() {
        for inst in func.layout.block_insts(b) {
            let dests = func.dfg.insts[inst]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
            for d in dests {
                let target = d.block(&func.dfg.value_lists);
                if pos[&target] <= k {
                    back.entry(target).or_default().push((inst, *d));
                }
            }
        }
    }
    for &header in &blocks {
        let params: Vec<Value> = func.dfg.block_params(header).to_vec();
        if params.len() < 2 {
            continue;
        }
        // Only a header with one back edge (permuting changes no other header's calls).
        let Some([(edge, call)]) = back.get(&header).map(|v| v.as_slice()) else {
            continue;
        };
        let (edge, call) = (*edge, *call);
        let args: Vec<Option<Value>> = call
            .args(&func.dfg.value_lists)
            .map(|a| a.as_value())
            .collect();
        // after[j] = the arguments that must come after argument j.
        let n = params.len();
        let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indegree = vec![0usize; n];
        let mut view = Edge {
            func,
            users: &users,
            canon: &canon,
            is_pure: &is_pure,
            edge,
            private: HashMap::new(),
        };
        for (j, a) in args.iter().enumerate() {
            let Some(a) = *a else { continue };
            let mut r = Vec::new();
            view.reads(cv(a), &params, &mut r, &mut Default::default());
            for i in r {
                if i != j {
                    after[j].push(i);
                    indegree[i] += 1;
                }
            }
        }
        if indegree.iter().all(|&d| d == 0) {
            continue;
        }
        // Stable topological order (lowest index first among the ready ones).
        let mut order = Vec::with_capacity(n);
        let mut done = vec![false; n];
        while order.len() < n {
            let Some(k) = (0..n).find(|&k| !done[k] && indegree[k] == 0) else {
                break; // a cycle: leave this header alone
            };
            done[k] = true;
            order.push(k);
            for &i in &after[k] {
                indegree[i] -= 1;
            }
        }
        if order.len() == n && order.iter().enumerate().any(|(i, &k)| i != k) {
            permute_block_params(func, header, &order);
        }
    }
}
