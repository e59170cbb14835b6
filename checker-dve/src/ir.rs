//! The resolved model: every name replaced by a variable, process, state or channel
//! index, the state-vector layout fixed, constants folded. The compiler turns it into
//! bytecode; nothing here is evaluated on the hot path.

use crate::ast::{BinaryOp, SyncDir, Type, UnaryOp};

/// A variable stored in the state vector.
#[derive(Clone, Debug)]
pub struct Variable {
    /// `x` for a global, `P.x` for a local of process `P`.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Byte offset of (the first element of) the variable in the state vector.
    pub offset: usize,
    /// Number of elements for an array, `None` for a scalar.
    pub array_len: Option<u32>,
    /// The (checked-system) index of the process owning it; `None` for a global.
    pub process: Option<usize>,
}

impl Variable {
    /// Whether it is a global variable (assignments to globals matter for DiVinE's
    /// rendezvous write-conflict rule).
    pub fn is_global(&self) -> bool {
        self.process.is_none()
    }

    /// Number of elements (1 for a scalar).
    pub fn len(&self) -> u32 {
        self.array_len.unwrap_or(1)
    }
}

/// A resolved expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Const(i32),
    /// Variable `var` (element 0 if it is an array named without an index).
    Load(usize),
    /// `var[index]`.
    LoadIndex(usize, Box<Expr>),
    /// `table[index]` for a constant array.
    Table(Vec<i32>, Box<Expr>),
    /// Whether process `.0` is in control state `.1`.
    InState(usize, u16),
    /// A unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operation.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

/// An assignable place: a variable or an array element.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The variable.
    pub var: usize,
    /// The element index for arrays (`None`: the scalar, or element 0).
    pub index: Option<Expr>,
}

/// A synchronisation of a transition.
#[derive(Clone, Debug)]
pub struct Sync {
    /// The channel index.
    pub channel: usize,
    /// Send or receive.
    pub dir: SyncDir,
    /// Values sent (for a send).
    pub values: Vec<Expr>,
    /// Places receiving the values (for a receive).
    pub targets: Vec<Place>,
}

/// One transition of a process.
#[derive(Clone, Debug)]
pub struct Transition {
    /// Source control state.
    pub from: u16,
    /// Target control state.
    pub to: u16,
    /// The guard (`None`: always true).
    pub guard: Option<Expr>,
    /// The synchronisation, if any.
    pub sync: Option<Sync>,
    /// Assignments in order.
    pub effects: Vec<(Place, Expr)>,
    /// Global variables assigned by the effects (sorted, deduplicated).
    pub global_writes: Vec<usize>,
}

/// An `assert state: expr` of a process.
#[derive(Clone, Debug)]
pub struct Assertion {
    /// The control state it applies in.
    pub state: u16,
    /// What must hold there.
    pub expr: Expr,
    /// A readable name, e.g. `P.CS: x < 3`.
    pub name: String,
}

/// Where a process's control state is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// Offset in the state vector.
    pub offset: usize,
    /// Whether it takes two bytes (processes with more than 255 states).
    pub wide: bool,
}

/// The state-vector layout: where every variable and control state is.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// State-vector variables: globals first, then each process's locals.
    pub variables: Vec<Variable>,
    /// Control states of the processes of the checked system, by process index.
    pub controls: Vec<Control>,
    /// Bytes in the state vector.
    pub width: usize,
}

/// A process of the checked system.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its name.
    pub name: String,
    /// Control state names; the index is the stored value.
    pub states: Vec<String>,
    /// Which control states are committed.
    pub committed: Vec<bool>,
    /// Transitions in declaration order.
    pub transitions: Vec<Transition>,
    /// Assertions.
    pub assertions: Vec<Assertion>,
}

/// A channel.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Its name.
    pub name: String,
    /// Item types of a typed channel (values sent are cut to them).
    pub item_types: Option<Vec<Type>>,
    /// Values per message.
    pub arity: usize,
    /// Buffer capacity; 0 for rendezvous.
    pub buffer: u32,
    /// For buffered channels: offset of the one-byte message count, followed by the
    /// `buffer` message slots.
    pub offset: usize,
}

impl Channel {
    /// Bytes one buffered message takes.
    pub fn message_width(&self) -> usize {
        self.item_types
            .as_ref()
            .map_or(0, |t| t.iter().map(|t| t.width()).sum())
    }
}

/// The resolved model.
#[derive(Clone, Debug)]
pub struct Program {
    /// Where variables and control states are.
    pub layout: Layout,
    /// Channels.
    pub channels: Vec<Channel>,
    /// Processes of the checked system (a property process is left out).
    pub processes: Vec<Process>,
    /// The initial state vector.
    pub initial: Vec<u8>,
    /// Things the user should know: ignored accept states, surplus initialisers, ...
    pub notices: Vec<String>,
}
