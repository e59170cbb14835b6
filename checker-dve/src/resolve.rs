//! Checks a parsed model and resolves it: every name to a variable, constant, channel,
//! process or control state; the state-vector layout (globals, buffered channels, then
//! each process's control state and locals); constants folded; initial values computed.
//! Every mistake is reported with its position: unknown and duplicate names, wrong
//! array sizes and indices, assignments to non-variables, channel arity mismatches.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::ast::{self, ExprKind, Initializer, SyncDir, Type};
use crate::compile::{compile_expr, MAX_TRANSITIONS};
use crate::error::{excerpt, DveError, Reporter, Span};
use crate::eval::{self, Fault};
use crate::ir::{self, Control, Expr, Layout, Place, Variable};

/// Largest state vector accepted, in bytes.
pub const MAX_WIDTH: usize = 1 << 16;
/// Largest array accepted.
pub const MAX_ARRAY: u32 = 65535;
/// Largest channel buffer accepted (the message count takes one byte).
pub const MAX_BUFFER: u32 = 255;

/// Resolves `model` (parsed from the source `report` refers to) into a program.
pub fn resolve(report: Reporter<'_>, model: &ast::Model) -> Result<ir::Program, DveError> {
    let mut r = Resolver {
        report,
        globals: HashMap::new(),
        procs: Vec::new(),
        layout: Layout::default(),
        pending: Vec::new(),
        notices: RefCell::new(Vec::new()),
        channels: Vec::new(),
        arity_first_use: Vec::new(),
    };
    r.declare_channels(&model.channels)?;
    let system = r.declare_processes(model)?;
    for decl in &model.variables {
        r.declare_variable(decl, None)?;
    }
    r.place_buffers(&model.channels)?;
    for &pi in &system {
        r.declare_process_locals(&model.processes[pi], pi)?;
    }
    let initial = r.initial_state(model, &system)?;
    let mut processes = Vec::new();
    let mut transition_count = 0usize;
    for &pi in &system {
        let p = r.process(&model.processes[pi], pi)?;
        transition_count += p.transitions.len();
        if transition_count > MAX_TRANSITIONS {
            let t = &model.processes[pi].transitions[p.transitions.len() - 1];
            return Err(r.report.error(
                t.span,
                format!("the model has more than {MAX_TRANSITIONS} transitions, more than this checker supports"),
            ));
        }
        processes.push(p);
    }
    Ok(ir::Program {
        layout: r.layout,
        channels: r.channels,
        processes,
        initial,
        notices: r.notices.into_inner(),
    })
}

/// The value of a constant.
#[derive(Clone, Debug)]
enum ConstValue {
    Scalar(i32),
    Array(Vec<i32>),
}

/// What a name stands for.
#[derive(Clone, Debug)]
enum Symbol {
    Var(usize),
    Const(ConstValue),
    Channel(usize),
    /// An index into the parsed processes.
    Process(usize),
}

/// Names of one process.
struct ProcScope {
    name: String,
    states: HashMap<String, u16>,
    /// Where each control state is declared.
    state_spans: Vec<Span>,
    /// Local variables and constants (control states are separate but share the
    /// namespace for duplicate checks).
    locals: HashMap<String, (Symbol, Span)>,
    /// Index in the checked system; `None` for the property process.
    system_index: Option<usize>,
}

/// An initialiser to evaluate once the layout is complete.
struct PendingInit {
    var: usize,
    values: Vec<(Expr, Span)>,
}

struct Resolver<'a> {
    report: Reporter<'a>,
    globals: HashMap<String, (Symbol, Span)>,
    procs: Vec<ProcScope>,
    layout: Layout,
    pending: Vec<PendingInit>,
    /// Notes for the user (printed by the CLI); written while resolving expressions,
    /// which borrow the resolver shared, hence the cell.
    notices: RefCell<Vec<String>>,
    channels: Vec<ir::Channel>,
    /// For untyped channels: the number of values first used with it, and where.
    arity_first_use: Vec<Option<(usize, Span)>>,
}

/// Whether `e` reads a variable or a control state (rather than numbers and constants).
fn reads_state(e: &Expr) -> bool {
    match e {
        Expr::Const(_) => false,
        Expr::Load(_) | Expr::LoadIndex(..) | Expr::InState(..) => true,
        Expr::Table(_, index) | Expr::Unary(_, index) => reads_state(index),
        Expr::Binary(_, a, b) => reads_state(a) || reads_state(b),
    }
}

/// The value of `e` in `state` (a constant expression reads none of it): what
/// constants and initial values are computed with, once, when the model loads.
fn evaluate(layout: &Layout, e: &Expr, state: &[u8]) -> Result<i32, Fault> {
    if let Expr::Const(c) = e {
        return Ok(*c);
    }
    let code = compile_expr(layout, e);
    let mut stack = vec![0; code.max_stack.max(1)];
    let mut mem = state;
    eval::run(&code, &mut mem, &mut stack)
}

fn fault_text(f: Fault) -> &'static str {
    match f {
        Fault::OutOfRange => "a value out of range",
        Fault::BadIndex => "an array index out of range",
        Fault::DivisionByZero => "division by zero",
    }
}

/// What a value computed while resolving is, for its error messages: "`value` of
/// `kind` `name`" (the value of constant `N`, the initial value of variable `x`).
struct Valued<'a> {
    value: &'static str,
    kind: &'static str,
    name: &'a str,
}

impl Resolver<'_> {
    fn err(&self, span: Span, message: impl Into<String>) -> DveError {
        self.report.error(span, message)
    }

    /// The value of `e` in `state`, which must be one of type `ty`'s.
    fn value_in_type(
        &self,
        e: &Expr,
        state: &[u8],
        span: Span,
        ty: Type,
        what: &Valued<'_>,
    ) -> Result<i32, DveError> {
        let Valued { value, kind, name } = *what;
        let name = excerpt(name);
        let v = evaluate(&self.layout, e, state).map_err(|fault| {
            self.err(
                span,
                format!(
                    "cannot compute the {value} of {kind} `{name}`: {}",
                    fault_text(fault)
                ),
            )
        })?;
        if !ty.contains(v) {
            return Err(self.err(
                span,
                format!(
                    "{value} {v} is out of range for `{}` {kind} `{name}`",
                    ty.name()
                ),
            ));
        }
        Ok(v)
    }

    fn source_text(&self, span: Span) -> &str {
        self.report
            .source
            .get(span.start..span.end)
            .unwrap_or("")
            .trim()
    }

    /// `ident` clashes with a name declared at `other`; reported at whichever of the
    /// two comes later in the source.
    fn duplicate(&self, ident: &ast::Ident, other: Span) -> DveError {
        let (later, earlier) = if other.start > ident.span.start {
            (other, ident.span)
        } else {
            (ident.span, other)
        };
        self.err(
            later,
            format!(
                "`{}` is already declared (at line {}, column {})",
                excerpt(&ident.name),
                earlier.line,
                earlier.col
            ),
        )
    }

    fn declare_global(&mut self, ident: &ast::Ident, symbol: Symbol) -> Result<(), DveError> {
        if let Some((_, first)) = self.globals.get(&ident.name) {
            return Err(self.duplicate(ident, *first));
        }
        self.globals
            .insert(ident.name.clone(), (symbol, ident.span));
        Ok(())
    }

    fn declare_channels(&mut self, decls: &[ast::ChannelDecl]) -> Result<(), DveError> {
        for d in decls {
            if d.buffer > MAX_BUFFER {
                return Err(self.err(
                    d.name.span,
                    format!(
                        "channel `{}` has a buffer of {} messages; at most {MAX_BUFFER} are supported",
                        excerpt(&d.name.name),
                        d.buffer
                    ),
                ));
            }
            let index = self.channels.len();
            self.declare_global(&d.name, Symbol::Channel(index))?;
            self.channels.push(ir::Channel {
                name: d.name.name.clone(),
                arity: d.item_types.as_ref().map_or(0, Vec::len),
                item_types: d.item_types.clone(),
                buffer: d.buffer,
                offset: 0,
            });
            self.arity_first_use.push(None);
        }
        Ok(())
    }

    /// Declares process names and their control states; returns the indices of the
    /// processes making up the checked system (all but the property process).
    fn declare_processes(&mut self, model: &ast::Model) -> Result<Vec<usize>, DveError> {
        for (pi, p) in model.processes.iter().enumerate() {
            self.declare_global(&p.name, Symbol::Process(pi))?;
            let mut states = HashMap::new();
            let mut first_at: HashMap<&str, Span> = HashMap::new();
            for (i, s) in p.states.iter().enumerate() {
                if let Some(first) = first_at.get(s.name.as_str()) {
                    return Err(self.duplicate(s, *first));
                }
                first_at.insert(&s.name, s.span);
                states.insert(s.name.clone(), i as u16);
            }
            if p.states.len() > usize::from(u16::MAX) - 1 {
                return Err(self.err(
                    p.name.span,
                    format!(
                        "process `{}` has {} states; at most {} are supported",
                        excerpt(&p.name.name),
                        p.states.len(),
                        u16::MAX - 1
                    ),
                ));
            }
            self.procs.push(ProcScope {
                name: p.name.name.clone(),
                states,
                state_spans: p.states.iter().map(|s| s.span).collect(),
                locals: HashMap::new(),
                system_index: None,
            });
        }
        let property = match &model.system.property {
            None => None,
            Some(id) => match self.globals.get(&id.name) {
                Some((Symbol::Process(pi), _)) => Some(*pi),
                _ => {
                    return Err(self.err(
                        id.span,
                        format!("unknown property process `{}`", excerpt(&id.name)),
                    ))
                }
            },
        };
        let mut system = Vec::new();
        for (pi, p) in model.processes.iter().enumerate() {
            if Some(pi) == property {
                let with = if p.accept.is_empty() {
                    ""
                } else {
                    " with accept states"
                };
                self.notices.get_mut().push(format!(
                    "LTL property process `{}`{with}: liveness is not checked",
                    excerpt(&p.name.name)
                ));
                continue;
            }
            if !p.accept.is_empty() {
                self.notices.get_mut().push(format!(
                    "process `{}` has accept states: liveness is not checked",
                    excerpt(&p.name.name)
                ));
            }
            self.procs[pi].system_index = Some(system.len());
            system.push(pi);
        }
        if system.is_empty() {
            return Err(self.err(
                model.system.span,
                "the model has no process besides the property process",
            ));
        }
        Ok(system)
    }

    fn lookup(&self, name: &str, scope: Option<usize>) -> Option<&Symbol> {
        scope
            .and_then(|p| self.procs[p].locals.get(name))
            .or_else(|| self.globals.get(name))
            .map(|(s, _)| s)
    }

    fn grow(&mut self, bytes: usize, span: Span) -> Result<usize, DveError> {
        let offset = self.layout.width;
        self.layout.width += bytes;
        if self.layout.width > MAX_WIDTH {
            return Err(self.err(
                span,
                format!("the state vector would exceed {MAX_WIDTH} bytes, more than this checker supports"),
            ));
        }
        Ok(offset)
    }

    fn declare_variable(&mut self, d: &ast::VarDecl, scope: Option<usize>) -> Result<(), DveError> {
        let name = &d.name;
        let existing = match scope {
            Some(p) => {
                let scope = &self.procs[p];
                scope.locals.get(&name.name).map(|(_, s)| *s).or_else(|| {
                    scope
                        .states
                        .get(&name.name)
                        .map(|&i| scope.state_spans[usize::from(i)])
                })
            }
            None => self.globals.get(&name.name).map(|(_, s)| *s),
        };
        if let Some(first) = existing {
            return Err(self.duplicate(name, first));
        }
        let len = match d.array {
            None => None,
            Some((n, span)) => {
                if n == 0 || n > MAX_ARRAY {
                    return Err(self.err(
                        span,
                        format!(
                            "array `{}` must have between 1 and {MAX_ARRAY} elements, not {n}",
                            excerpt(&name.name)
                        ),
                    ));
                }
                Some(n)
            }
        };
        let kind = if d.is_const { "constant" } else { "variable" };
        let inits: Vec<&ast::Expr> = match (&d.init, len) {
            (None, _) => Vec::new(),
            (Some(Initializer::Scalar(e)), None) => vec![e],
            (Some(Initializer::List(items, _)), Some(n)) => {
                if items.len() > n as usize {
                    self.notices.get_mut().push(format!(
                        "array `{}` has {} initial values for {n} elements; the surplus is ignored",
                        excerpt(&name.name),
                        items.len()
                    ));
                }
                items.iter().take(n as usize).collect()
            }
            (Some(Initializer::Scalar(e)), Some(_)) => {
                return Err(self.err(
                    e.span,
                    format!(
                        "array `{}` must be initialised with a list `{{...}}`",
                        excerpt(&name.name)
                    ),
                ))
            }
            (Some(Initializer::List(_, span)), None) => {
                return Err(self.err(
                    *span,
                    format!(
                        "scalar {kind} `{}` cannot be initialised with a list",
                        excerpt(&name.name)
                    ),
                ))
            }
        };
        let mut values = Vec::new();
        for e in inits {
            values.push((self.expr(e, scope)?, e.span));
        }
        let symbol = if d.is_const {
            if values.is_empty() {
                return Err(self.err(
                    name.span,
                    format!("constant `{}` has no value", excerpt(&name.name)),
                ));
            }
            let mut folded = Vec::new();
            for (v, span) in &values {
                if reads_state(v) {
                    return Err(self.err(
                        *span,
                        format!(
                            "the value of constant `{}` must be computable from numbers and constants",
                            excerpt(&name.name)
                        ),
                    ));
                }
                // Folding leaves a fault (and what short-circuits past one) for run
                // time; a constant needs its value now.
                let what = Valued {
                    value: "value",
                    kind: "constant",
                    name: &name.name,
                };
                folded.push(self.value_in_type(v, &[], *span, d.ty, &what)?);
            }
            match len {
                None => Symbol::Const(ConstValue::Scalar(folded[0])),
                Some(n) => {
                    folded.resize(n as usize, 0);
                    Symbol::Const(ConstValue::Array(folded))
                }
            }
        } else {
            let bytes = d.ty.width() * len.unwrap_or(1) as usize;
            let offset = self.grow(bytes, name.span)?;
            let var = self.layout.variables.len();
            self.layout.variables.push(Variable {
                name: match scope {
                    Some(p) => format!("{}.{}", self.procs[p].name, name.name),
                    None => name.name.clone(),
                },
                ty: d.ty,
                offset,
                array_len: len,
                process: scope.and_then(|p| self.procs[p].system_index),
            });
            if !values.is_empty() {
                self.pending.push(PendingInit { var, values });
            }
            Symbol::Var(var)
        };
        match scope {
            Some(p) => {
                self.procs[p]
                    .locals
                    .insert(name.name.clone(), (symbol, name.span));
            }
            None => {
                self.globals.insert(name.name.clone(), (symbol, name.span));
            }
        }
        Ok(())
    }

    fn place_buffers(&mut self, decls: &[ast::ChannelDecl]) -> Result<(), DveError> {
        for (c, d) in decls.iter().enumerate() {
            if self.channels[c].buffer > 0 {
                let bytes = 1 + self.channels[c].buffer as usize * self.channels[c].message_width();
                self.channels[c].offset = self.grow(bytes, d.name.span)?;
            }
        }
        Ok(())
    }

    fn declare_process_locals(&mut self, p: &ast::ProcessDecl, pi: usize) -> Result<(), DveError> {
        let wide = p.states.len() >= 255;
        let offset = self.grow(if wide { 2 } else { 1 }, p.name.span)?;
        self.layout.controls.push(Control { offset, wide });
        for d in &p.variables {
            self.declare_variable(d, Some(pi))?;
        }
        Ok(())
    }

    /// The initial state: control states set to `init`, variables to their
    /// initialisers (evaluated in declaration order), everything else zero.
    fn initial_state(&mut self, model: &ast::Model, system: &[usize]) -> Result<Vec<u8>, DveError> {
        let mut state = vec![0u8; self.layout.width];
        for (si, &pi) in system.iter().enumerate() {
            let p = &model.processes[pi];
            let Some(&init) = self.procs[pi].states.get(&p.init.name) else {
                return Err(self.unknown_state(&p.init, pi));
            };
            let control = self.layout.controls[si];
            if control.wide {
                state[control.offset..control.offset + 2].copy_from_slice(&init.to_le_bytes());
            } else {
                state[control.offset] = init as u8;
            }
        }
        for init in &self.pending {
            let var = &self.layout.variables[init.var];
            for (k, (e, span)) in init.values.iter().enumerate() {
                let what = Valued {
                    value: "initial value",
                    kind: "variable",
                    name: &var.name,
                };
                let value = self.value_in_type(e, &state, *span, var.ty, &what)?;
                let at = var.offset + k * var.ty.width();
                match var.ty {
                    Type::Byte => state[at] = value as u8,
                    Type::Int => state[at..at + 2].copy_from_slice(&(value as i16).to_le_bytes()),
                }
            }
        }
        Ok(state)
    }

    fn unknown_state(&self, s: &ast::Ident, pi: usize) -> DveError {
        self.err(
            s.span,
            format!(
                "process `{}` has no state `{}`",
                excerpt(&self.procs[pi].name),
                excerpt(&s.name)
            ),
        )
    }

    fn state(&self, s: &ast::Ident, pi: usize) -> Result<u16, DveError> {
        self.procs[pi]
            .states
            .get(&s.name)
            .copied()
            .ok_or_else(|| self.unknown_state(s, pi))
    }

    /// Resolves a name used as a value (not an array element).
    fn name_value(&self, id: &ast::Ident, scope: Option<usize>) -> Result<Expr, DveError> {
        match self.lookup(&id.name, scope) {
            Some(Symbol::Var(v)) => Ok(Expr::Load(*v)),
            Some(Symbol::Const(ConstValue::Scalar(c))) => Ok(Expr::Const(*c)),
            Some(Symbol::Const(ConstValue::Array(values))) => Ok(Expr::Const(values[0])),
            Some(other) => Err(self.misused(id, other)),
            None => Err(self.unknown_name(id, scope)),
        }
    }

    fn misused(&self, id: &ast::Ident, symbol: &Symbol) -> DveError {
        match symbol {
            Symbol::Channel(_) => self.err(
                id.span,
                format!("`{}` is a channel, not a variable", excerpt(&id.name)),
            ),
            Symbol::Process(_) => self.err(
                id.span,
                format!(
                    "`{0}` is a process, not a variable (test its state with `{0}.state`)",
                    excerpt(&id.name)
                ),
            ),
            Symbol::Var(_) | Symbol::Const(_) => self.err(
                id.span,
                format!("`{}` cannot be used here", excerpt(&id.name)),
            ),
        }
    }

    fn unknown_name(&self, id: &ast::Ident, scope: Option<usize>) -> DveError {
        if let Some(p) = scope {
            if self.procs[p].states.contains_key(&id.name) {
                return self.err(
                    id.span,
                    format!(
                        "`{0}` is a control state, not a variable (test it with `{1}.{0}`)",
                        excerpt(&id.name),
                        excerpt(&self.procs[p].name)
                    ),
                );
            }
        }
        self.err(
            id.span,
            format!("unknown identifier `{}`", excerpt(&id.name)),
        )
    }

    /// Notes a constant `index` outside `0..len`. It is left for run time, where a
    /// transition that evaluates it leads to the error state (rule 4 of the semantics;
    /// DiVinE loads such a model too), so a model whose bad index is never reached gets
    /// DiVinE's counts.
    fn note_constant_index(&self, index: &Expr, len: u32, array: &ast::Ident, span: Span) {
        if let Expr::Const(i) = index {
            if *i < 0 || *i as u32 >= len {
                let at = self.err(
                    span,
                    format!(
                        "index {i} is out of range for array `{}` of {len} elements; \
                         evaluating it leads to the error state",
                        excerpt(&array.name)
                    ),
                );
                self.notices.borrow_mut().push(at.to_string());
            }
        }
    }

    /// Resolves `array[index]` where `array` names `symbol`.
    fn element(
        &self,
        array: &ast::Ident,
        symbol: Option<&Symbol>,
        index: &ast::Expr,
        scope: Option<usize>,
    ) -> Result<Expr, DveError> {
        let ix = self.expr(index, scope)?;
        match symbol {
            Some(Symbol::Var(v)) => match self.layout.variables[*v].array_len {
                Some(len) => {
                    self.note_constant_index(&ix, len, array, index.span);
                    Ok(Expr::LoadIndex(*v, Box::new(ix)))
                }
                None => Err(self.err(
                    array.span,
                    format!("`{}` is not an array", excerpt(&array.name)),
                )),
            },
            Some(Symbol::Const(ConstValue::Array(values))) => {
                self.note_constant_index(&ix, values.len() as u32, array, index.span);
                Ok(match ix {
                    Expr::Const(i) if i >= 0 && (i as usize) < values.len() => {
                        Expr::Const(values[i as usize])
                    }
                    ix => Expr::Table(values.clone(), Box::new(ix)),
                })
            }
            Some(Symbol::Const(ConstValue::Scalar(_))) => Err(self.err(
                array.span,
                format!("`{}` is not an array", excerpt(&array.name)),
            )),
            Some(other) => Err(self.misused(array, other)),
            None => Err(self.unknown_name(array, scope)),
        }
    }

    /// The checked-system index of the process named `id`.
    fn process_ref(&self, id: &ast::Ident) -> Result<(usize, usize), DveError> {
        match self.globals.get(&id.name) {
            Some((Symbol::Process(pi), _)) => match self.procs[*pi].system_index {
                Some(si) => Ok((*pi, si)),
                None => Err(self.err(
                    id.span,
                    format!(
                        "`{}` is the property process, which is not part of the checked system",
                        excerpt(&id.name)
                    ),
                )),
            },
            Some(_) => Err(self.err(id.span, format!("`{}` is not a process", excerpt(&id.name)))),
            None => Err(self.err(id.span, format!("unknown process `{}`", excerpt(&id.name)))),
        }
    }

    /// Resolves an expression in the scope of process `scope` (or globally).
    fn expr(&self, e: &ast::Expr, scope: Option<usize>) -> Result<Expr, DveError> {
        Ok(match &e.kind {
            ExprKind::Number(n) => Expr::Const(*n),
            ExprKind::Name(id) => self.name_value(id, scope)?,
            ExprKind::Index(array, index) => {
                self.element(array, self.lookup(&array.name, scope), index, scope)?
            }
            ExprKind::InState(p, s) => {
                let (pi, si) = self.process_ref(p)?;
                Expr::InState(si, self.state(s, pi)?)
            }
            ExprKind::Foreign(p, v, index) => {
                let (pi, _) = self.process_ref(p)?;
                let Some((symbol, _)) = self.procs[pi].locals.get(&v.name) else {
                    return Err(self.err(
                        v.span,
                        format!(
                            "process `{}` has no variable `{}`",
                            excerpt(&p.name),
                            excerpt(&v.name)
                        ),
                    ));
                };
                match index {
                    Some(index) => self.element(v, Some(symbol), index, scope)?,
                    None => match symbol {
                        Symbol::Var(var) => Expr::Load(*var),
                        Symbol::Const(ConstValue::Scalar(c)) => Expr::Const(*c),
                        Symbol::Const(ConstValue::Array(values)) => Expr::Const(values[0]),
                        other => return Err(self.misused(v, other)),
                    },
                }
            }
            ExprKind::Unary(op, x) => match self.expr(x, scope)? {
                Expr::Const(c) => Expr::Const(eval::unary(*op, c)),
                x => Expr::Unary(*op, Box::new(x)),
            },
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, scope)?, self.expr(b, scope)?);
                match (&a, &b) {
                    (Expr::Const(x), Expr::Const(y)) => match eval::binary(*op, *x, *y) {
                        Ok(v) => Expr::Const(v),
                        // Left for run time, where it leads to the error state.
                        Err(_) => Expr::Binary(*op, Box::new(a), Box::new(b)),
                    },
                    _ => Expr::Binary(*op, Box::new(a), Box::new(b)),
                }
            }
        })
    }

    /// Resolves an assignable place; `what` describes the role for error messages.
    fn place(&self, e: &ast::Expr, scope: Option<usize>, what: &str) -> Result<Place, DveError> {
        let (id, index) = match &e.kind {
            ExprKind::Name(id) => (id, None),
            ExprKind::Index(id, index) => (id, Some(index)),
            ExprKind::Foreign(p, v, _) => {
                return Err(self.err(
                    e.span,
                    format!(
                        "cannot assign to `{}->{}`, a variable of another process",
                        excerpt(&p.name),
                        excerpt(&v.name)
                    ),
                ))
            }
            _ => {
                return Err(self.err(
                    e.span,
                    format!(
                        "{what} must be a variable or an array element, not `{}`",
                        excerpt(self.source_text(e.span))
                    ),
                ))
            }
        };
        match self.lookup(&id.name, scope) {
            Some(Symbol::Var(v)) => {
                let var = &self.layout.variables[*v];
                let index = match (index, var.array_len) {
                    (None, _) => None,
                    (Some(index), Some(len)) => {
                        let ix = self.expr(index, scope)?;
                        self.note_constant_index(&ix, len, id, index.span);
                        Some(ix)
                    }
                    (Some(_), None) => {
                        return Err(
                            self.err(id.span, format!("`{}` is not an array", excerpt(&id.name)))
                        )
                    }
                };
                Ok(Place { var: *v, index })
            }
            Some(Symbol::Const(_)) => Err(self.err(
                id.span,
                format!("cannot assign to constant `{}`", excerpt(&id.name)),
            )),
            Some(other) => Err(self.misused(id, other)),
            None => Err(self.unknown_name(id, scope)),
        }
    }

    fn process(&mut self, p: &ast::ProcessDecl, pi: usize) -> Result<ir::Process, DveError> {
        let scope = Some(pi);
        let mut committed = vec![false; p.states.len()];
        for s in &p.commit {
            committed[usize::from(self.state(s, pi)?)] = true;
        }
        for s in &p.accept {
            self.state(s, pi)?;
        }
        let mut assertions = Vec::new();
        for (s, e) in &p.asserts {
            assertions.push(ir::Assertion {
                state: self.state(s, pi)?,
                expr: self.expr(e, scope)?,
                name: format!("{}.{}: {}", p.name.name, s.name, self.source_text(e.span)),
            });
        }
        let mut transitions = Vec::new();
        for t in &p.transitions {
            transitions.push(self.transition(t, pi)?);
        }
        Ok(ir::Process {
            name: p.name.name.clone(),
            states: p.states.iter().map(|s| s.name.clone()).collect(),
            committed,
            transitions,
            assertions,
        })
    }

    fn transition(&mut self, t: &ast::Transition, pi: usize) -> Result<ir::Transition, DveError> {
        let scope = Some(pi);
        let from = self.state(&t.from, pi)?;
        let to = self.state(&t.to, pi)?;
        let guard = match &t.guard {
            Some(g) => Some(self.expr(g, scope)?),
            None => None,
        };
        let sync = match &t.sync {
            Some(s) => Some(self.sync(s, scope)?),
            None => None,
        };
        let mut effects = Vec::new();
        let mut global_writes = Vec::new();
        for a in &t.effects {
            let place = self.place(&a.target, scope, "the left side of an assignment")?;
            let value = self.expr(&a.value, scope)?;
            if self.layout.variables[place.var].is_global() {
                global_writes.push(place.var);
            }
            effects.push((place, value));
        }
        global_writes.sort_unstable();
        global_writes.dedup();
        Ok(ir::Transition {
            from,
            to,
            guard,
            sync,
            effects,
            global_writes,
        })
    }

    fn sync(&mut self, s: &ast::SyncDecl, scope: Option<usize>) -> Result<ir::Sync, DveError> {
        let id = &s.channel;
        let channel = match self.globals.get(&id.name) {
            Some((Symbol::Channel(c), _)) => *c,
            Some(_) => {
                return Err(self.err(id.span, format!("`{}` is not a channel", excerpt(&id.name))))
            }
            None => {
                return Err(self.err(id.span, format!("unknown channel `{}`", excerpt(&id.name))))
            }
        };
        let count = s.values.len();
        let ch = &self.channels[channel];
        if ch.item_types.is_some() {
            if count != ch.arity {
                return Err(self.err(
                    s.span,
                    format!(
                        "channel `{}` carries {} value(s) per message, but this synchronisation has {count}",
                        excerpt(&id.name),
                        ch.arity
                    ),
                ));
            }
        } else {
            match self.arity_first_use[channel] {
                None => {
                    self.arity_first_use[channel] = Some((count, s.span));
                    self.channels[channel].arity = count;
                }
                Some((first, at)) if first != count => {
                    return Err(self.err(
                        s.span,
                        format!(
                            "channel `{}` carries {first} value(s) at line {}, but {count} here",
                            excerpt(&id.name),
                            at.line
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let mut values = Vec::new();
        let mut targets = Vec::new();
        for v in &s.values {
            match s.dir {
                SyncDir::Send => values.push(self.expr(v, scope)?),
                SyncDir::Receive => {
                    targets.push(self.place(v, scope, "a received value's destination")?)
                }
            }
        }
        Ok(ir::Sync {
            channel,
            dir: s.dir,
            values,
            targets,
        })
    }
}
