//! Kiln builds against a patched Cranelift (third_party/README.md): the egraph elaborator
//! must keep hoisting loop-invariant code out of a loop after it has visited a block outside
//! the loop that a block inside dominates, such as a cold error path. Unpatched, the
//! multiply below stays in the loop.

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, Opcode, Signature};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

#[test]
fn invariant_code_leaves_a_loop_with_an_early_exit() {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").unwrap();
    let isa = cranelift_native::builder()
        .unwrap()
        .finish(settings::Flags::new(flags))
        .unwrap();

    // fn(a, b, n) -> i64:  acc = 0; for i in 0..n { if i == 12345 { return -1 }; acc += a * b }
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    sig.returns.push(AbiParam::new(types::I64));
    let mut func = Function::with_name_signature(Default::default(), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let (entry, header, body, cold, cont, exit) = (
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
    );
    b.append_block_params_for_function_params(entry);
    let (i, acc) = (
        b.append_block_param(header, types::I64),
        b.append_block_param(header, types::I64),
    );
    let result = b.append_block_param(exit, types::I64);
    b.switch_to_block(entry);
    let (a, bb, n) = {
        let p = b.block_params(entry);
        (p[0], p[1], p[2])
    };
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(header, &[zero.into(), zero.into()]);
    b.switch_to_block(header);
    let more = b.ins().icmp(
        cranelift_codegen::ir::condcodes::IntCC::SignedLessThan,
        i,
        n,
    );
    b.ins().brif(more, body, &[], exit, &[acc.into()]);
    b.switch_to_block(body);
    // The way on first and the exit second, as Kiln's `fail_if` branches: the elaborator
    // visits the exit before the rest of the loop body.
    let fine = b
        .ins()
        .icmp_imm_s(cranelift_codegen::ir::condcodes::IntCC::NotEqual, i, 12345);
    b.ins().brif(fine, cont, &[], cold, &[]);
    b.switch_to_block(cold);
    b.set_cold_block(cold);
    let minus_one = b.ins().iconst(types::I64, -1);
    b.ins().return_(&[minus_one]);
    b.switch_to_block(cont);
    let product = b.ins().imul(a, bb);
    let acc2 = b.ins().iadd(acc, product);
    let i2 = b.ins().iadd_imm_s(i, 1);
    b.ins().jump(header, &[i2.into(), acc2.into()]);
    b.switch_to_block(exit);
    b.ins().return_(&[result]);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());

    let mut ctx = Context::for_function(func);
    ctx.optimize(&*isa, &mut ControlPlane::default()).unwrap();
    let f = &ctx.func;
    let multiply_in = f
        .layout
        .blocks()
        .find(|&blk| {
            f.layout
                .block_insts(blk)
                .any(|inst| f.dfg.insts[inst].opcode() == Opcode::Imul)
        })
        .expect("the multiply is still there");
    assert!(
        multiply_in != cont && multiply_in != body && multiply_in != header,
        "`a * b` was not hoisted out of the loop:\n{}",
        f.display()
    );
}
