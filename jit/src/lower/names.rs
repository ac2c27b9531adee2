//! Names: reading and assigning locals and session globals, Numba's one-type-per-variable
//! rule at each assignment, and "did you mean" hints for names that are not defined.

use super::*;

/// The closest known name within edit distance 2, for "did you mean" hints.
pub(crate) fn similar_name(name: &str, env: &Env, cx: &FnCx) -> Option<String> {
    let mut cands: Vec<&str> = Vec::new();
    // Pushed one by one: each `&'static str` shortens to the locals' lifetime.
    for n in crate::builtins::names().chain(crate::builtins::constant_names()) {
        cands.push(n);
    }
    cands.extend(env.input.funcs.keys().map(|s| s.as_str()));
    cands.extend(env.input.globals.keys().map(|s| s.as_str()));
    cands.extend(cx.locals.keys().map(|s| s.as_str()));
    cands
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        // Close enough to be a typo: one edit in a short name, two in a long one.
        .filter(|(d, c)| {
            let n = name.chars().count().min(c.len());
            (*d == 1 && n >= 3) || (*d == 2 && n >= 6)
        })
        .min()
        .map(|(_, c)| c.to_string())
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'a> Env<'a> {
    pub(crate) fn global_ref(&mut self, name: &str, ty: Ty) -> ir::GlobalId {
        if let Some(&g) = self.global_index.get(name) {
            return g;
        }
        self.globals.push(ir::GlobalRef {
            name: name.to_string(),
            ty,
            addr: 0,
        });
        let g = (self.globals.len() - 1) as u32;
        self.global_index.insert(name.to_string(), g);
        g
    }

    /// The type a global has inside this cell.
    pub(crate) fn global_ty(&self, name: &str) -> Option<Ty> {
        if let Some((t, _)) = self.cell_globals.get(name) {
            return Some(t.clone());
        }
        self.input.globals.get(name).map(|g| g.ty.clone())
    }

    /// Record an assignment of `ty` to global `name`; returns the global's type in this cell.
    pub(crate) fn assign_global(&mut self, name: &str, ty: &Ty, span: Span) -> LResult<Ty> {
        match self.cell_globals.get(name).cloned() {
            Some((old, first)) => match unify(&old, ty) {
                Some(t) => {
                    if t != old {
                        self.globals_changed = true;
                        self.cell_globals
                            .insert(name.to_string(), (t.clone(), first));
                    }
                    Ok(t)
                }
                None => Err(conflict(name, &old, first, ty, span)),
            },
            None => {
                // Widen the session's type when that works, so a value read before this
                // cell's assignment stays meaningful; otherwise the global is rebound.
                // A cell that assigns the global before any read rebinds it (Python); one that
                // may read the old value first widens the old type so the value stays valid.
                let rebinds = self
                    .name_uses
                    .assigned_before_read(&self.input.module.body, name);
                let t = match self.input.globals.get(name) {
                    Some(g) if !rebinds => unify(&g.ty, ty).unwrap_or_else(|| ty.clone()),
                    _ => ty.clone(),
                };
                self.globals_changed = true;
                self.cell_globals
                    .insert(name.to_string(), (t.clone(), span));
                Ok(t)
            }
        }
    }

    // ----- names -----------------------------------------------------------------------------

    pub(crate) fn is_local(&self, cx: &FnCx, name: &str) -> bool {
        !cx.is_cell && cx.local_names.contains(name)
    }

    /// The type `name` has so far, as `read_name` would read it, without reading it.
    pub(crate) fn name_ty(&self, cx: &FnCx, name: &str) -> Option<Ty> {
        if let Some(v) = cx.comp_var(name) {
            return cx.vars[v as usize].1.clone();
        }
        if let Some(v) = cx.par_var(name) {
            return cx.vars[v as usize].1.clone();
        }
        if self.is_local(cx, name) {
            return cx
                .locals
                .get(name)
                .and_then(|&v| cx.vars[v as usize].1.clone());
        }
        self.global_ty(name)
    }

    pub(crate) fn read_name(&mut self, cx: &mut FnCx, name: &str, span: Span) -> LResult<Expr> {
        let v = self.read_name_any(cx, name, span)?;
        self.check_par_list(cx, &v, span)?;
        Ok(v)
    }

    fn read_name_any(&mut self, cx: &mut FnCx, name: &str, span: Span) -> LResult<Expr> {
        if let Some(v) = cx.comp_var(name) {
            return match &cx.vars[v as usize].1 {
                Some(t) => Ok(Expr::new(ExprKind::Var(v), t.clone())),
                None => self.unknown(
                    span,
                    format!("'{name}' is read before the comprehension assigns it"),
                ),
            };
        }
        if let Some(v) = cx.par_var(name) {
            return match &cx.vars[v as usize].1 {
                Some(t) => Ok(Expr::new(ExprKind::Var(v), t.clone())),
                None => self.unknown(
                    span,
                    format!("'{name}' is read before it is assigned in this parallel loop's body"),
                ),
            };
        }
        if self.is_local(cx, name) {
            return match cx.locals.get(name) {
                Some(&v) => match &cx.vars[v as usize].1 {
                    Some(t) => Ok(Expr::new(ExprKind::Var(v), t.clone())),
                    None => self.unknown(
                        span,
                        format!("local variable '{name}' referenced before assignment"),
                    ),
                },
                None => self.unknown(
                    span,
                    format!("local variable '{name}' referenced before assignment"),
                ),
            };
        }
        if let Some(t) = self.global_ty(name) {
            let g = self.global_ref(name, t.clone());
            return Ok(Expr::new(ExprKind::Global(g), t));
        }
        if let Some(c) = crate::builtins::constant(name) {
            return Ok(c);
        }
        if let Some(v) = self.ctypes_type_value(name, true, span) {
            return v;
        }
        if self.input.funcs.contains_key(name) {
            return type_err(span, format!("function '{name}' used as a value"))
                .map_err(|e| with_hint(e, "functions are not values in Kiln; call it instead"));
        }
        if MODULES.contains(&name) {
            return type_err(span, format!("module '{name}' used as a value"));
        }
        // Unknown, not an error yet: a later statement may still assign it (the probe rounds
        // see that); the final round reports it.
        // The hint costs an edit-distance scan: only the final round, which reports, makes it.
        let hint = if self.probe {
            None
        } else {
            similar_name(name, self, cx).map(|s| format!("did you mean '{s}'?"))
        };
        let mut d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            format!("name '{name}' is not defined"),
        );
        d.hint = hint;
        Err(LErr::Unknown(d))
    }

    /// The place for assigning `name`, recording the assigned type.
    pub(crate) fn name_place(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        ty: &Ty,
        span: Span,
    ) -> LResult<(Place, Ty)> {
        if let Some(v) = cx.comp_var(name) {
            let t = self.assign_var(cx, v, name, ty, span)?;
            return Ok((Place::Var(v), t));
        }
        if let Some(v) = cx.par_var(name) {
            let t = self.assign_var(cx, v, name, ty, span)?;
            // Private types persist across rounds (the scope is rebuilt each round).
            let key = (
                cx.par.as_ref().map(|p| p.key).unwrap_or(0),
                name.to_string(),
            );
            if self.par_types.get(&key) != Some(&t) {
                self.par_types.insert(key, t.clone());
                self.globals_changed = true;
            }
            return Ok((Place::Var(v), t));
        }
        if self.is_local(cx, name) {
            let v = match cx.locals.get(name) {
                Some(&v) => v,
                None => {
                    cx.vars.push((name.to_string(), None, span));
                    let v = (cx.vars.len() - 1) as u32;
                    cx.locals.insert(name.to_string(), v);
                    v
                }
            };
            let t = self.assign_var(cx, v, name, ty, span)?;
            return Ok((Place::Var(v), t));
        }
        let t = self.assign_global(name, ty, span)?;
        let g = self.global_ref(name, t.clone());
        Ok((Place::Global(g), t))
    }

    /// Record an assignment of `ty` to local variable `v`; returns its (widened) type.
    pub(crate) fn assign_var(
        &mut self,
        cx: &mut FnCx,
        v: ir::VarId,
        name: &str,
        ty: &Ty,
        span: Span,
    ) -> LResult<Ty> {
        let slot = &mut cx.vars[v as usize];
        Ok(match &slot.1 {
            None => {
                slot.1 = Some(ty.clone());
                slot.2 = span;
                self.changed = true;
                ty.clone()
            }
            Some(old) => match unify(old, ty) {
                Some(t) => {
                    if &t != old {
                        slot.1 = Some(t.clone());
                        self.changed = true;
                    }
                    t
                }
                None => return Err(conflict(name, old, slot.2, ty, span)),
            },
        })
    }
}
