//! The syntax tree of a DVE model, as written: names are not resolved yet.

use crate::error::Span;

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A variable type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `byte`: 0..=255, one byte of the state vector.
    Byte,
    /// `int`: -32768..=32767, two bytes (little endian) of the state vector.
    Int,
}

impl Type {
    /// The keyword naming the type.
    pub fn name(self) -> &'static str {
        match self {
            Type::Byte => "byte",
            Type::Int => "int",
        }
    }

    /// Bytes one value takes in the state vector.
    pub fn width(self) -> usize {
        match self {
            Type::Byte => 1,
            Type::Int => 2,
        }
    }

    /// Whether `v` is a value of the type.
    pub fn contains(self, v: i32) -> bool {
        match self {
            Type::Byte => (0..=255).contains(&v),
            Type::Int => (-32768..=32767).contains(&v),
        }
    }

    /// `v` cut to the type, as a typed channel stores it (C conversion).
    pub fn truncate(self, v: i32) -> i32 {
        match self {
            Type::Byte => i32::from(v as u8),
            Type::Int => i32::from(v as i16),
        }
    }
}

/// A whole model: global declarations, processes and the `system` line.
#[derive(Clone, Debug)]
pub struct Model {
    /// Global variables and constants, in declaration order.
    pub variables: Vec<VarDecl>,
    /// Channels, in declaration order.
    pub channels: Vec<ChannelDecl>,
    /// Processes, in declaration order.
    pub processes: Vec<ProcessDecl>,
    /// The `system` line.
    pub system: SystemDecl,
}

/// One declared variable or constant (`byte a[3] = {1, 2};`).
#[derive(Clone, Debug)]
pub struct VarDecl {
    /// Whether declared `const`.
    pub is_const: bool,
    /// Its type.
    pub ty: Type,
    /// Its name.
    pub name: Ident,
    /// Array length and where it was written, for arrays.
    pub array: Option<(u32, Span)>,
    /// The initialiser, if any.
    pub init: Option<Initializer>,
}

/// The right-hand side of a variable declaration.
#[derive(Clone, Debug)]
pub enum Initializer {
    /// `= expr`
    Scalar(Expr),
    /// `= {e1, e2, ...}` and the span of the braces.
    List(Vec<Expr>, Span),
}

/// A channel declaration.
#[derive(Clone, Debug)]
pub struct ChannelDecl {
    /// Its name.
    pub name: Ident,
    /// For typed channels (`channel {byte, int} c[2]`), the item types.
    pub item_types: Option<Vec<Type>>,
    /// Buffer capacity; 0 means rendezvous.
    pub buffer: u32,
}

/// A process declaration.
#[derive(Clone, Debug)]
pub struct ProcessDecl {
    /// Its name.
    pub name: Ident,
    /// Local variables and constants.
    pub variables: Vec<VarDecl>,
    /// Control states, in declaration order (their index is their value).
    pub states: Vec<Ident>,
    /// The initial control state.
    pub init: Ident,
    /// Committed control states.
    pub commit: Vec<Ident>,
    /// Accepting control states (parsed for property processes; liveness is not
    /// checked).
    pub accept: Vec<Ident>,
    /// `assert state: expr` pairs.
    pub asserts: Vec<(Ident, Expr)>,
    /// Transitions, in declaration order.
    pub transitions: Vec<Transition>,
}

/// One transition: `from -> to { guard ...; sync ...; effect ...; }`.
#[derive(Clone, Debug)]
pub struct Transition {
    /// Source control state.
    pub from: Ident,
    /// Target control state.
    pub to: Ident,
    /// The guard, if any.
    pub guard: Option<Expr>,
    /// The synchronisation, if any.
    pub sync: Option<SyncDecl>,
    /// Assignments, executed left to right.
    pub effects: Vec<Assignment>,
    /// The whole transition.
    pub span: Span,
}

/// Direction of a synchronisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncDir {
    /// `c!v`
    Send,
    /// `c?x`
    Receive,
}

/// `sync c!v;` or `sync c?x;`.
#[derive(Clone, Debug)]
pub struct SyncDecl {
    /// The channel.
    pub channel: Ident,
    /// Send or receive.
    pub dir: SyncDir,
    /// Values sent, or the variables receiving them.
    pub values: Vec<Expr>,
    /// The whole `c!v`.
    pub span: Span,
}

/// `target = value`.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// The assigned variable or array element.
    pub target: Expr,
    /// The assigned value.
    pub value: Expr,
}

/// The `system async;` line.
#[derive(Clone, Debug)]
pub struct SystemDecl {
    /// `property P`: the property process, if named.
    pub property: Option<Ident>,
    /// Where the line is.
    pub span: Span,
}

/// An expression and where it is.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-e`
    Neg,
    /// `~e`
    BitNot,
    /// `not e` (also `!e`)
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `imply`
    Imply,
    /// `or`, `||`
    Or,
    /// `and`, `&&`
    And,
    /// `|`
    BitOr,
    /// `&`
    BitAnd,
    /// `^`
    BitXor,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

/// The shapes of expressions.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A literal (`true` is 1, `false` is 0).
    Number(i32),
    /// A variable or constant.
    Name(Ident),
    /// `a[i]`
    Index(Ident, Box<Expr>),
    /// `P.s`: whether process `P` is in control state `s`.
    InState(Ident, Ident),
    /// `P->v` or `P->v[i]`: a local variable of another process.
    Foreign(Ident, Ident, Option<Box<Expr>>),
    /// A unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operation.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}
