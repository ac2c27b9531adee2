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
