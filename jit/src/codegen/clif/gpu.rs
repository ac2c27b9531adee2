//! The host side of a `@gpu` loop: its variables and bounds packed as for a `@par` loop,
//! then one call to the runtime (`kiln_gpu_for`), which moves the arrays, launches the
//! kernel the OpenCL backend generated and combines its reductions.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    pub(super) fn gpu_for(
        &mut self,
        ranges: &[ir::Range],
        par: &ir::ParInfo,
        site: ir::SiteId,
    ) -> Result<(), String> {
        let Some(&spec) = self.gpu_kernels.get(&par.id) else {
            return Err(format!("no OpenCL kernel for @gpu loop {}", par.id));
        };
        let dims = self.loop_bounds(ranges, site)?;
        let (env, dims_at) = self.pack_loop_env(&dims);
        let (_, _, io) = self.pack_reductions(par)?;
        let specp = self.iconst(spec as i64);
        let envp = self.b.ins().stack_addr(types::I64, env, 0);
        let dimsp = self.b.ins().stack_addr(types::I64, env, 8 * dims_at as i32);
        let iop = self.b.ins().stack_addr(types::I64, io, 0);
        let rc = self.call_rt1("kiln_gpu_for", &[self.ctx, specp, envp, dimsp, iop]);
        // The runtime raised the kernel's error with its whole chain of sites (the failing
        // operation's first), as the serial loop would have: leave without adding one.
        // A launch that failed before its kernel ran (no device) points at the loop.
        let ok = self.b.create_block();
        let bad = self.b.create_block();
        self.b.set_cold_block(bad);
        let fine = self.b.ins().icmp_imm_s(IntCC::Equal, rc, 0);
        self.b.ins().brif(fine, ok, &[], bad, &[]);
        self.b.switch_to_block(bad);
        let s = self.iconst(site as i64);
        self.call_rt("kiln_trace_if_none", &[self.ctx, s]);
        self.b.ins().jump(self.err_block, &[]);
        self.b.switch_to_block(ok);
        self.unpack_reductions(par, io)
    }
}
