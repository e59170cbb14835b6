//! Turns the resolved model into what the successor generator runs: bytecode for every
//! guard, effect list, sent value and receiving place, and per-process tables giving
//! the transitions leaving each control state, grouped the way DiVinE 2 enumerates
//! them.

use crate::ast::{BinaryOp, SyncDir, Type};
use crate::eval::{Code, Op};
use crate::ir::{self, Expr, Layout, Place, Program, Variable};
use crate::state_vector::StateVector;

/// Largest number of transitions: actions pack two transition indices into 32 bits.
pub const MAX_TRANSITIONS: usize = 0x7fff;

/// How a transition synchronises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No synchronisation.
    Local,
    /// `c!v` on a rendezvous channel.
    Send,
    /// `c?x` on a rendezvous channel.
    Receive,
    /// `c!v` on a buffered channel.
    BufferedSend,
    /// `c?x` on a buffered channel.
    BufferedReceive,
}

/// A place receiving a value: a scalar or an array element.
#[derive(Clone, Debug)]
pub struct Target {
    /// The variable's type.
    pub ty: Type,
    /// Offset of the variable (element 0).
    pub base: usize,
    /// Number of elements (1 for a scalar).
    pub len: u32,
    /// The element index, evaluated in the state before the transition.
    pub index: Option<Code>,
}

/// A transition ready to run.
#[derive(Clone, Debug)]
pub struct Transition {
    /// Index of its process.
    pub process: usize,
    /// Source control state.
    pub from: u16,
    /// Target control state.
    pub to: u16,
    /// The guard, if any.
    pub guard: Option<Code>,
    /// The effects, in one program.
    pub effects: Code,
    /// How it synchronises.
    pub kind: Kind,
    /// The channel, for synchronising transitions.
    pub channel: usize,
    /// Values sent, one program each.
    pub values: Vec<Code>,
    /// Places receiving values.
    pub targets: Vec<Target>,
    /// Receive transitions whose effects assign a global variable this transition's
    /// effects also assign (DiVinE makes such a rendezvous erroneous).
    pub conflicts: Vec<u32>,
    /// `P: s -> t`, for traces.
    pub label: String,
}

/// Transitions leaving one control state, as indices into [`Compiled::transitions`].
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    /// Transitions without synchronisation.
    pub local: Vec<u32>,
    /// Receives on buffered channels.
    pub buffered_receive: Vec<u32>,
    /// Sends on buffered channels.
    pub buffered_send: Vec<u32>,
    /// Sends on rendezvous channels.
    pub send: Vec<u32>,
    /// Receives on rendezvous channels.
    pub receive: Vec<u32>,
}

/// A process ready to run.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its name.
    pub name: String,
    /// Offset of its control state.
    pub control_offset: usize,
    /// Whether the control state takes two bytes.
    pub control_wide: bool,
    /// Control state names.
    pub states: Vec<String>,
    /// Which control states are committed.
    pub committed: Vec<bool>,
    /// Transitions leaving each control state.
    pub outgoing: Vec<Outgoing>,
    /// All rendezvous sends of the process, in declaration order.
    pub all_sends: Vec<u32>,
}

impl Process {
    /// The control state stored in `state`.
    #[inline]
    pub fn control(&self, state: &[u8]) -> usize {
        if self.control_wide {
            usize::from(u16::from_le_bytes([
                state[self.control_offset],
                state[self.control_offset + 1],
            ]))
        } else {
            usize::from(state[self.control_offset])
        }
    }

    /// Stores control state `s` into `state`.
    #[inline]
    pub fn set_control(&self, state: &mut [u8], s: u16) {
        if self.control_wide {
            state[self.control_offset..self.control_offset + 2].copy_from_slice(&s.to_le_bytes());
        } else {
            state[self.control_offset] = s as u8;
        }
    }
}

/// An assertion ready to check.
#[derive(Clone, Debug)]
pub struct Assertion {
    /// Its process.
    pub process: usize,
    /// The control state it applies in.
    pub state: u16,
    /// The condition.
    pub code: Code,
    /// Its name.
    pub name: String,
}

/// The whole model, compiled.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Bytes per state.
    pub width: usize,
    /// The initial state (emitted as a state, so in blocks of its own like every
    /// state vector).
    pub initial: StateVector,
    /// DiVinE's error state: all zero but process 0's control state, which is set to
    /// the number of process 0's states.
    pub error_state: StateVector,
    /// The processes.
    pub processes: Vec<Process>,
    /// All transitions, process by process in declaration order.
    pub transitions: Vec<Transition>,
    /// The channels.
    pub channels: Vec<ir::Channel>,
    /// The variables, for rendering states.
    pub variables: Vec<Variable>,
    /// Assertions, checked as invariants.
    pub assertions: Vec<Assertion>,
    /// Whether any process has a committed state.
    pub has_committed: bool,
    /// Whether any transition receives on a rendezvous channel.
    pub has_rendezvous: bool,
    /// Stack length enough for every program.
    pub max_stack: usize,
}

impl Compiled {
    /// Whether `state` is DiVinE's error state.
    pub fn is_error_state(&self, state: &[u8]) -> bool {
        state == &*self.error_state
    }
}

/// Compiles a resolved program.
pub fn compile(program: &Program) -> Compiled {
    let mut transitions = Vec::new();
    let mut processes = Vec::new();
    let mut assertions = Vec::new();
    let mut max_stack = 1;
    for (pi, p) in program.processes.iter().enumerate() {
        let mut outgoing = vec![Outgoing::default(); p.states.len()];
        let mut all_sends = Vec::new();
        for t in &p.transitions {
            let index = transitions.len() as u32;
            let ct = compile_transition(program, pi, t);
            max_stack = max_stack.max(ct.max_stack());
            let out = &mut outgoing[usize::from(t.from)];
            match ct.kind {
                Kind::Local => out.local.push(index),
                Kind::BufferedReceive => out.buffered_receive.push(index),
                Kind::BufferedSend => out.buffered_send.push(index),
                Kind::Send => {
                    out.send.push(index);
                    all_sends.push(index);
                }
                Kind::Receive => out.receive.push(index),
            }
            transitions.push(ct);
        }
        for a in &p.assertions {
            let code = compile_expr(&program.layout, &a.expr);
            max_stack = max_stack.max(code.max_stack);
            assertions.push(Assertion {
                process: pi,
                state: a.state,
                code,
                name: a.name.clone(),
            });
        }
        let control = program.layout.controls[pi];
        processes.push(Process {
            name: p.name.clone(),
            control_offset: control.offset,
            control_wide: control.wide,
            states: p.states.clone(),
            committed: p.committed.clone(),
            outgoing,
            all_sends,
        });
    }
    // DiVinE's rendezvous write-conflict rule: a send and a receive whose effects both
    // assign the same global variable make an erroneous pair.
    let writes: Vec<&[usize]> = program
        .processes
        .iter()
        .flat_map(|p| p.transitions.iter().map(|t| t.global_writes.as_slice()))
        .collect();
    let mut writing_receives: Vec<Vec<usize>> = vec![Vec::new(); program.channels.len()];
    for (r, t) in transitions.iter().enumerate() {
        if t.kind == Kind::Receive && !writes[r].is_empty() {
            writing_receives[t.channel].push(r);
        }
    }
    for s in 0..transitions.len() {
        if transitions[s].kind != Kind::Send || writes[s].is_empty() {
            continue;
        }
        transitions[s].conflicts = writing_receives[transitions[s].channel]
            .iter()
            .filter(|&&r| writes[r].iter().any(|w| writes[s].binary_search(w).is_ok()))
            .map(|&r| r as u32)
            .collect();
    }
    let mut error_state = vec![0u8; program.layout.width];
    if let Some(p0) = processes.first() {
        p0.set_control(&mut error_state, p0.states.len() as u16);
    }
    Compiled {
        width: program.layout.width,
        initial: StateVector::from_slice(&program.initial),
        error_state: StateVector::from_slice(&error_state),
        has_committed: processes.iter().any(|p| p.committed.iter().any(|&c| c)),
        has_rendezvous: transitions.iter().any(|t| t.kind == Kind::Receive),
        processes,
        transitions,
        channels: program.channels.clone(),
        variables: program.layout.variables.clone(),
        assertions,
        max_stack,
    }
}

impl Transition {
    fn max_stack(&self) -> usize {
        let codes = self
            .guard
            .iter()
            .chain(std::iter::once(&self.effects))
            .chain(self.values.iter())
            .chain(self.targets.iter().filter_map(|t| t.index.as_ref()));
        codes.map(|c| c.max_stack).max().unwrap_or(0)
    }
}

fn compile_transition(program: &Program, pi: usize, t: &ir::Transition) -> Transition {
    let p = &program.processes[pi];
    let layout = &program.layout;
    let mut effects = Emitter::new(layout);
    for (place, value) in &t.effects {
        effects.store(place, value);
    }
    let (kind, channel, values, targets, suffix) = match &t.sync {
        None => (Kind::Local, 0, Vec::new(), Vec::new(), String::new()),
        Some(sync) => {
            let ch = &program.channels[sync.channel];
            let buffered = ch.buffer > 0;
            let (kind, mark) = match (sync.dir, buffered) {
                (SyncDir::Send, false) => (Kind::Send, '!'),
                (SyncDir::Receive, false) => (Kind::Receive, '?'),
                (SyncDir::Send, true) => (Kind::BufferedSend, '!'),
                (SyncDir::Receive, true) => (Kind::BufferedReceive, '?'),
            };
            let values = sync
                .values
                .iter()
                .map(|v| compile_expr(layout, v))
                .collect();
            let targets = sync
                .targets
                .iter()
                .map(|place| {
                    let var = &layout.variables[place.var];
                    Target {
                        ty: var.ty,
                        base: var.offset,
                        len: var.len(),
                        index: place.index.as_ref().map(|i| compile_expr(layout, i)),
                    }
                })
                .collect();
            (
                kind,
                sync.channel,
                values,
                targets,
                format!(" sync {}{mark}", ch.name),
            )
        }
    };
    Transition {
        process: pi,
        from: t.from,
        to: t.to,
        guard: t.guard.as_ref().map(|g| compile_expr(layout, g)),
        effects: effects.finish(),
        kind,
        channel,
        values,
        targets,
        conflicts: Vec::new(),
        label: format!(
            "{}: {} -> {}{suffix}",
            p.name,
            p.states[usize::from(t.from)],
            p.states[usize::from(t.to)]
        ),
    }
}

/// Whether `e` always evaluates to 0 or 1.
fn is_boolean(e: &Expr) -> bool {
    use crate::ast::UnaryOp;
    use BinaryOp::*;
    match e {
        Expr::Const(c) => *c == 0 || *c == 1,
        Expr::InState(..) => true,
        Expr::Unary(UnaryOp::Not, _) => true,
        Expr::Binary(Eq | Ne | Lt | Le | Gt | Ge | And | Or | Imply, ..) => true,
        _ => false,
    }
}

/// The instruction for a binary operator; `None` for `and`, `or` and `imply`, which
/// compile to jumps.
fn binary_op(op: BinaryOp) -> Option<Op> {
    use BinaryOp::*;
    Some(match op {
        Add => Op::Add,
        Sub => Op::Sub,
        Mul => Op::Mul,
        Div => Op::Div,
        Rem => Op::Rem,
        BitAnd => Op::BitAnd,
        BitOr => Op::BitOr,
        BitXor => Op::BitXor,
        Shl => Op::Shl,
        Shr => Op::Shr,
        Eq => Op::Eq,
        Ne => Op::Ne,
        Lt => Op::Lt,
        Le => Op::Le,
        Gt => Op::Gt,
        Ge => Op::Ge,
        And | Or | Imply => return None,
    })
}

/// Compiles one expression.
pub fn compile_expr(layout: &Layout, e: &Expr) -> Code {
    let mut em = Emitter::new(layout);
    em.expr(e);
    em.finish()
}

struct Emitter<'p> {
    layout: &'p Layout,
    code: Code,
    depth: usize,
}

impl<'p> Emitter<'p> {
    fn new(layout: &'p Layout) -> Self {
        Emitter {
            layout,
            code: Code::default(),
            depth: 0,
        }
    }

    fn finish(self) -> Code {
        self.code
    }

    /// Appends `op`, which changes the stack height by `delta`.
    fn op(&mut self, op: Op, delta: isize) {
        self.code.ops.push(op);
        self.depth = self.depth.saturating_add_signed(delta);
        self.code.max_stack = self.code.max_stack.max(self.depth);
    }

    fn here(&self) -> u32 {
        self.code.ops.len() as u32
    }

    fn var(&self, v: usize) -> &'p Variable {
        &self.layout.variables[v]
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Const(v) => self.op(Op::Const(*v), 1),
            Expr::Load(v) => {
                let var = self.var(*v);
                self.load_at(var, var.offset);
            }
            Expr::LoadIndex(v, index) => {
                let var = self.var(*v);
                if let Expr::Const(i) = **index {
                    if i >= 0 && (i as u32) < var.len() {
                        self.load_at(var, var.offset + i as usize * var.ty.width());
                        return;
                    }
                }
                if let (Type::Byte, Some(at)) = (var.ty, self.byte_operand(index)) {
                    let (base, len) = (var.offset as u32, var.len());
                    self.op(
                        Op::LoadU8ByU8 {
                            base,
                            len,
                            index: at,
                        },
                        1,
                    );
                    return;
                }
                self.expr(index);
                let (base, len) = (var.offset as u32, var.len());
                match var.ty {
                    Type::Byte => self.op(Op::LoadU8At { base, len }, 0),
                    Type::Int => self.op(Op::LoadI16At { base, len }, 0),
                }
            }
            Expr::Table(values, index) => {
                self.expr(index);
                let t = self.code.tables.len() as u32;
                self.code.tables.push(values.clone());
                self.op(Op::Table(t), 0);
            }
            Expr::InState(p, s) => {
                let control = self.layout.controls[*p];
                self.op(
                    Op::InState {
                        offset: control.offset as u32,
                        wide: control.wide,
                        state: *s,
                    },
                    1,
                );
            }
            Expr::Unary(op, x) => {
                self.expr(x);
                self.op(Op::Unary(*op), 0);
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
        }
    }

    fn load_at(&mut self, var: &Variable, offset: usize) {
        match var.ty {
            Type::Byte => self.op(Op::LoadU8(offset as u32), 1),
            Type::Int => self.op(Op::LoadI16(offset as u32), 1),
        }
    }

    /// The offset of a `byte` scalar (or constant-indexed element) read by `e`.
    fn byte_operand(&self, e: &Expr) -> Option<u32> {
        let (v, i) = match e {
            Expr::Load(v) => (*v, 0),
            Expr::LoadIndex(v, index) => match **index {
                Expr::Const(i) => (*v, i),
                _ => return None,
            },
            _ => return None,
        };
        let var = self.var(v);
        (var.ty == Type::Byte && i >= 0 && (i as u32) < var.len())
            .then_some((var.offset + i as usize) as u32)
    }

    fn binary(&mut self, op: BinaryOp, a: &Expr, b: &Expr) {
        let Some(instruction) = binary_op(op) else {
            // `and`, `or`, `imply`: evaluate `b` only when `a` does not decide.
            let jump = match op {
                BinaryOp::And => Op::AndJump,
                BinaryOp::Or => Op::OrJump,
                _ => Op::ImplyJump,
            };
            self.expr(a);
            let at = self.code.ops.len();
            self.op(jump(0), -1);
            self.expr(b);
            if !is_boolean(b) {
                self.op(Op::ToBool, 0);
            }
            self.code.ops[at] = jump(self.here());
            return;
        };
        if let Some(fused) = self.fused_compare(op, a, b) {
            self.op(fused, 1);
            return;
        }
        self.expr(a);
        self.expr(b);
        self.op(instruction, -1);
    }

    /// A comparison of a `byte` variable with a constant, as one instruction.
    fn fused_compare(&self, op: BinaryOp, a: &Expr, b: &Expr) -> Option<Op> {
        use BinaryOp::*;
        let (offset, value, op) = match (self.byte_operand(a), b, a, self.byte_operand(b)) {
            (Some(offset), Expr::Const(value), _, _) => (offset, *value, op),
            (_, _, Expr::Const(value), Some(offset)) => {
                let mirrored = match op {
                    Lt => Gt,
                    Le => Ge,
                    Gt => Lt,
                    Ge => Le,
                    other => other,
                };
                (offset, *value, mirrored)
            }
            _ => return None,
        };
        Some(match op {
            Eq => Op::EqU8 { offset, value },
            Ne => Op::NeU8 { offset, value },
            Lt => Op::LtU8 { offset, value },
            Le => Op::LeU8 { offset, value },
            Gt => Op::GtU8 { offset, value },
            Ge => Op::GeU8 { offset, value },
            _ => return None,
        })
    }

    fn store(&mut self, place: &Place, value: &Expr) {
        let var = self.var(place.var);
        self.expr(value);
        let direct = match &place.index {
            None => var.offset,
            Some(Expr::Const(i)) if *i >= 0 && (*i as u32) < var.len() => {
                var.offset + *i as usize * var.ty.width()
            }
            Some(index) => {
                self.expr(index);
                let (base, len) = (var.offset as u32, var.len());
                match var.ty {
                    Type::Byte => self.op(Op::StoreU8At { base, len }, -2),
                    Type::Int => self.op(Op::StoreI16At { base, len }, -2),
                }
                return;
            }
        };
        match var.ty {
            Type::Byte => self.op(Op::StoreU8(direct as u32), -1),
            Type::Int => self.op(Op::StoreI16(direct as u32), -1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reporter;
    use crate::lexer::tokenize;
    use crate::parser::parse;
    use crate::resolve::resolve;

    /// Compiles a model whose process `P` has the single transition body `body`.
    /// Layout: `number[3]` at 0..3, `P`'s control state at 3, `j` at 4, `max` at 5.
    fn compiled(body: &str) -> Compiled {
        let src = format!(
            "byte number[3];
             process P {{ byte j, max; state s; init s; trans s -> s {{ {body} }}; }}
             system async;"
        );
        let r = Reporter {
            file: "t",
            source: &src,
        };
        let ast = parse(r, &tokenize(r, &src).unwrap()).unwrap();
        compile(&resolve(r, &ast).unwrap())
    }

    #[test]
    fn guards_use_fused_loads_and_comparisons_and_short_circuit_jumps() {
        let c = compiled("guard j < 3 and number[j] > max;");
        let guard = c.transitions[0].guard.as_ref().unwrap();
        assert_eq!(
            guard.ops,
            [
                Op::LtU8 {
                    offset: 4,
                    value: 3
                },
                Op::AndJump(5),
                Op::LoadU8ByU8 {
                    base: 0,
                    len: 3,
                    index: 4
                },
                Op::LoadU8(5),
                Op::Gt,
            ]
        );
        assert_eq!(guard.max_stack, 2);
        assert!(c.max_stack >= 2);
    }

    #[test]
    fn constants_fold_and_comparisons_mirror() {
        let c = compiled("guard 4 - 1 > j or (j * 1) % 3 != 2;");
        let guard = c.transitions[0].guard.as_ref().unwrap();
        assert_eq!(
            guard.ops,
            [
                Op::LtU8 {
                    offset: 4,
                    value: 3
                },
                Op::OrJump(9),
                Op::LoadU8(4),
                Op::Const(1),
                Op::Mul,
                Op::Const(3),
                Op::Rem,
                Op::Const(2),
                Op::Ne,
            ]
        );
        assert_eq!(guard.max_stack, 2);
    }

    #[test]
    fn effects_store_in_order_with_checked_indices() {
        let c = compiled("effect number[j] = max + 1, j = 0;");
        let effects = &c.transitions[0].effects;
        assert_eq!(
            effects.ops,
            [
                Op::LoadU8(5),
                Op::Const(1),
                Op::Add,
                Op::LoadU8(4),
                Op::StoreU8At { base: 0, len: 3 },
                Op::Const(0),
                Op::StoreU8(4),
            ]
        );
        assert_eq!(effects.max_stack, 2);
    }

    #[test]
    fn the_error_state_marks_process_zero() {
        let c = compiled("");
        assert_eq!(*c.error_state, [0, 0, 0, 1, 0, 0]);
        assert_eq!(&*c.initial, &[0, 0, 0, 0, 0, 0]);
        assert!(c.is_error_state(&[0, 0, 0, 1, 0, 0]));
    }
}
