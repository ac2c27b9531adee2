//! Inlining of small leaf functions, with Cranelift's own inliner.
//!
//! A call to a user function costs more than the instruction: the callee reloads its float
//! constants and its context fields, and nothing can be hoisted across the call. For a
//! hot helper like Mandelbrot's `mandel(cr, ci, max_iter)`, called once per pixel, that was a
//! measurable share of the run, and Numba (LLVM) inlines it. Kiln inlines a callee when it is
//! small and calls no user function itself, so recursion can never be inlined and a body is
//! copied at most one level deep. The callee's body is the same CLIF that would have been
//! compiled out of line, so behaviour (error reports, recursion depth, interrupts) is
//! unchanged.

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{ExternalName, FuncRef, Function, Inst, Opcode, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Callees at most this many CLIF instructions long are inlined: a loop of a dozen lines.
/// Past that, the call overhead is small against the body and the copies cost compile time.
pub const MAX_INLINE_INSTS: usize = 160;

/// Decides, for each call site, whether Cranelift inlines it.
pub struct LeafInliner {
    /// Function id (as `u32`) to the body that may be inlined.
    bodies: HashMap<u32, Function>,
}

impl LeafInliner {
    /// Keeps those of `funcs` (id, built CLIF) that are small and call none of `user_fns`.
    pub fn new<'a>(
        funcs: impl Iterator<Item = (u32, &'a Function)>,
        user_fns: &HashSet<u32>,
    ) -> Self {
        let bodies = funcs
            .filter(|(id, f)| {
                user_fns.contains(id)
                    && f.dfg.num_insts() <= MAX_INLINE_INSTS
                    && !calls_any(f, user_fns)
            })
            .map(|(id, f)| (id, f.clone()))
            .collect();
        LeafInliner { bodies }
    }
}

/// The function id a direct call's `FuncRef` names, if it names one.
fn callee_id(func: &Function, callee: FuncRef) -> Option<u32> {
    match &func.dfg.ext_funcs[callee].name {
        ExternalName::User(r) => Some(func.params.user_named_funcs()[*r].index),
        _ => None,
    }
}

/// The function ids that the direct calls left in `funcs` name.
pub fn called_functions<'a>(funcs: impl Iterator<Item = &'a Function>) -> HashSet<u32> {
    let mut ids = HashSet::new();
    for f in funcs {
        for block in f.layout.blocks() {
            for inst in f.layout.block_insts(block) {
                if let cranelift_codegen::ir::InstructionData::Call { func_ref, .. } =
                    f.dfg.insts[inst]
                {
                    if let Some(id) = callee_id(f, func_ref) {
                        ids.insert(id);
                    }
                }
            }
        }
    }
    ids
}

/// Whether `func` imports (and so may call) any of `ids`.
fn calls_any(func: &Function, ids: &HashSet<u32>) -> bool {
    func.dfg
        .ext_funcs
        .keys()
        .any(|r| callee_id(func, r).is_some_and(|id| ids.contains(&id)))
}

impl Inline for &LeafInliner {
    fn inline(
        &mut self,
        caller: &Function,
        _call_inst: Inst,
        call_opcode: Opcode,
        callee: FuncRef,
        _call_args: &[Value],
    ) -> InlineCommand<'_> {
        if call_opcode != Opcode::Call {
            return InlineCommand::KeepCall;
        }
        match callee_id(caller, callee).and_then(|id| self.bodies.get(&id)) {
            Some(body) => InlineCommand::Inline {
                callee: Cow::Borrowed(body),
                visit_callee: false,
            },
            None => InlineCommand::KeepCall,
        }
    }
}

/// Marks a function's error exit (an unused `iconst` of this value, removed again by
/// [`thread_error_exits`]). "KILNERR!" in ASCII, so it cannot be mistaken for a constant of
/// the program by accident in practice, and the pass checks the block's shape besides.
pub const ERR_EXIT_MARK: i64 = 0x4b49_4c4e_4552_5221;

/// After inlining: sends each inlined error exit straight to the caller's error path.
///
/// A function's error exit returns zeros and the caller, right after the call, loads
/// `ctx.err` and branches to its own error path. Once the callee is inlined, that return is a
/// jump back into the caller's code, so every value the caller keeps in registers around the
/// call is also live across the callee's (cold) error-reporting calls, and the register
/// allocator spills them, even in the hot loop. The error exit is only reached with `ctx.err`
/// set, so its jump can go directly to where the caller's check would send it; the check
/// itself, then reached only by normal returns, becomes a jump. Also removes the markers.
pub fn thread_error_exits(func: &mut Function, err_offset: i32) {
    use cranelift_codegen::ir::{BlockArg, BlockCall, InstructionData};
    let Some(entry) = func.layout.entry_block() else {
        return;
    };
    let ctx = func.dfg.block_params(entry)[0];
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        let marks: Vec<Inst> = func
            .layout
            .block_insts(block)
            .filter(|&i| {
                matches!(func.dfg.insts[i], InstructionData::UnaryImm {
                    opcode: Opcode::Iconst,
                    imm,
                } if imm.bits() == ERR_EXIT_MARK)
            })
            .collect();
        if marks.is_empty() {
            continue;
        }
        for m in marks {
            func.layout.remove_inst(m);
        }
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        let InstructionData::Jump { destination, .. } = func.dfg.insts[term] else {
            continue; // not inlined: it returns
        };
        // The caller's check (`fail_if` on the loaded flag):
        //   e = load.i64 ctx+err; z = iconst 0; c = icmp eq e, z; brif c, ok, error_path(args)
        let cont = destination.block(&func.dfg.value_lists);
        let insts: Vec<Inst> = func.layout.block_insts(cont).take(4).collect();
        let [load, zero, cmp, br] = insts[..] else {
            continue;
        };
        let InstructionData::Load {
            opcode: Opcode::Load,
            arg,
            offset,
            ..
        } = func.dfg.insts[load]
        else {
            continue;
        };
        let flag = func.dfg.first_result(load);
        let is_zero = matches!(func.dfg.insts[zero], InstructionData::UnaryImm {
            opcode: Opcode::Iconst,
            imm,
        } if imm.bits() == 0);
        let zero_val = func.dfg.first_result(zero);
        let is_flag_clear = matches!(func.dfg.insts[cmp], InstructionData::IntCompare {
            opcode: Opcode::Icmp,
            cond: IntCC::Equal,
            args: [a, b],
        } if a == flag && b == zero_val);
        let InstructionData::Brif {
            arg: cond,
            blocks: [on_ok, on_err],
            ..
        } = func.dfg.insts[br]
        else {
            continue;
        };
        let local = |v: Value| {
            [flag, zero_val, func.dfg.first_result(cmp)].contains(&v)
                || func.dfg.block_params(cont).contains(&v)
        };
        let args: Vec<BlockArg> = on_err.args(&func.dfg.value_lists).collect();
        if arg != ctx
            || i32::from(offset) != err_offset
            || !is_zero
            || !is_flag_clear
            || cond != func.dfg.first_result(cmp)
            || args.iter().any(|a| a.as_value().is_none_or(local))
        {
            continue;
        }
        let target = on_err.block(&func.dfg.value_lists);
        let call = BlockCall::new(target, args, &mut func.dfg.value_lists);
        func.dfg.insts[term] = InstructionData::Jump {
            opcode: Opcode::Jump,
            destination: call,
        };
        // What still reaches the check are the callee's normal returns, and a function
        // returns normally only with `ctx.err` clear (every failing runtime call branches
        // to the error exit). So the check always goes on: make it a jump.
        func.dfg.insts[br] = InstructionData::Jump {
            opcode: Opcode::Jump,
            destination: on_ok,
        };
        // The check's load, compare and zero are dead now (Cranelift removes dead pure
        // instructions itself, but not a load that may see a store).
        for inst in [cmp, zero, load] {
            let result = func.dfg.first_result(inst);
            let used = func.layout.blocks().any(|b| {
                func.layout
                    .block_insts(b)
                    .any(|i| func.dfg.inst_values(i).any(|v| v == result))
            });
            if !used {
                func.layout.remove_inst(inst);
            }
        }
    }
}
