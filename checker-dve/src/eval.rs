//! The bytecode and the machine that runs it over a state vector.
//!
//! Values are C `int`s (`i32`, wrapping on overflow). A run either yields a value (a
//! guard, a sent value) or writes to the state vector (an effect), or stops with a
//! [`Fault`]: an assignment out of the variable's range, an array index out of range,
//! or division by zero. A fault makes the successor DiVinE's error state.

use crate::ast::{BinaryOp, UnaryOp};

/// Why an evaluation stopped: the cases that lead to DiVinE's error state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A value assigned outside the range of its variable's type.
    OutOfRange,
    /// An array index outside the array.
    BadIndex,
    /// Division (or remainder) by zero.
    DivisionByZero,
}

/// One instruction of the stack machine. Offsets are byte offsets into the state
/// vector; `len` is an array length; jump targets are instruction indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push a constant.
    Const(i32),
    /// Push the `byte` at an offset.
    LoadU8(u32),
    /// Push the `int` at an offset.
    LoadI16(u32),
    /// Pop an index, push element `index` of a `byte` array.
    LoadU8At {
        /// Offset of element 0.
        base: u32,
        /// Number of elements.
        len: u32,
    },
    /// Pop an index, push element `index` of an `int` array.
    LoadI16At {
        /// Offset of element 0.
        base: u32,
        /// Number of elements.
        len: u32,
    },
    /// Pop an index, push element `index` of constant table `table`.
    Table(u32),
    /// Push whether the control state at `offset` equals `state`.
    InState {
        /// Offset of the control state.
        offset: u32,
        /// Whether the control state takes two bytes.
        wide: bool,
        /// The state tested for.
        state: u16,
    },
    /// Push element `index` of a `byte` array, `index` being a `byte` variable.
    LoadU8ByU8 {
        /// Offset of element 0.
        base: u32,
        /// Number of elements.
        len: u32,
        /// Offset of the index variable.
        index: u32,
    },
    /// Push whether the `byte` at `offset` equals `value` (a fused load and compare).
    EqU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// Push whether the `byte` at `offset` differs from `value`.
    NeU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// Push whether the `byte` at `offset` is less than `value`.
    LtU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// Push whether the `byte` at `offset` is at most `value`.
    LeU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// Push whether the `byte` at `offset` is greater than `value`.
    GtU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// Push whether the `byte` at `offset` is at least `value`.
    GeU8 {
        /// Offset of the variable.
        offset: u32,
        /// The constant compared with.
        value: i32,
    },
    /// A unary operator on the top of the stack.
    Unary(UnaryOp),
    /// Replace the top by 1 if it is non-zero, else 0.
    ToBool,
    /// Pop `b`, replace the top `a` by `a + b` (wrapping).
    Add,
    /// `a - b` (wrapping).
    Sub,
    /// `a * b` (wrapping).
    Mul,
    /// `a / b`, truncating; faults when `b` is 0.
    Div,
    /// `a % b` with the sign of `a`; faults when `b` is 0.
    Rem,
    /// `a & b`
    BitAnd,
    /// `a | b`
    BitOr,
    /// `a ^ b`
    BitXor,
    /// `a << b` (count modulo 32).
    Shl,
    /// `a >> b` (arithmetic, count modulo 32).
    Shr,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `and`: if the top is 0, leave it and jump; else pop it.
    AndJump(u32),
    /// `or`: if the top is non-zero, make it 1 and jump; else pop it.
    OrJump(u32),
    /// `imply`: if the top is 0, make it 1 and jump; else pop it.
    ImplyJump(u32),
    /// Pop a value and store it into the `byte` at an offset.
    StoreU8(u32),
    /// Pop a value and store it into the `int` at an offset.
    StoreI16(u32),
    /// Pop an index, then a value; store it into element `index` of a `byte` array.
    StoreU8At {
        /// Offset of element 0.
        base: u32,
        /// Number of elements.
        len: u32,
    },
    /// Pop an index, then a value; store it into element `index` of an `int` array.
    StoreI16At {
        /// Offset of element 0.
        base: u32,
        /// Number of elements.
        len: u32,
    },
}

/// A compiled expression or effect list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Code {
    /// The instructions.
    pub ops: Vec<Op>,
    /// Constant arrays used by [`Op::Table`].
    pub tables: Vec<Vec<i32>>,
    /// The most values the stack holds while running.
    pub max_stack: usize,
}

impl Code {
    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Applies a unary operator.
#[inline]
pub fn unary(op: UnaryOp, v: i32) -> i32 {
    match op {
        UnaryOp::Neg => v.wrapping_neg(),
        UnaryOp::BitNot => !v,
        UnaryOp::Not => i32::from(v == 0),
    }
}

/// Applies a binary operator with C `int` semantics: wrapping arithmetic, division
/// truncating toward zero, `%` taking the dividend's sign, shifts by the count modulo
/// 32, comparisons and logical operators giving 0 or 1.
#[inline]
pub fn binary(op: BinaryOp, a: i32, b: i32) -> Result<i32, Fault> {
    use BinaryOp::*;
    Ok(match op {
        Add => a.wrapping_add(b),
        Sub => a.wrapping_sub(b),
        Mul => a.wrapping_mul(b),
        Div => {
            if b == 0 {
                return Err(Fault::DivisionByZero);
            }
            a.wrapping_div(b)
        }
        Rem => {
            if b == 0 {
                return Err(Fault::DivisionByZero);
            }
            a.wrapping_rem(b)
        }
        BitAnd => a & b,
        BitOr => a | b,
        BitXor => a ^ b,
        Shl => a.wrapping_shl(b as u32),
        Shr => a.wrapping_shr(b as u32),
        Eq => i32::from(a == b),
        Ne => i32::from(a != b),
        Lt => i32::from(a < b),
        Le => i32::from(a <= b),
        Gt => i32::from(a > b),
        Ge => i32::from(a >= b),
        And => i32::from(a != 0 && b != 0),
        Or => i32::from(a != 0 || b != 0),
        Imply => i32::from(a == 0 || b != 0),
    })
}

/// The state vector a program runs on: read-only for guards and sent values,
/// writable for effects.
pub trait Memory {
    /// The bytes.
    fn bytes(&self) -> &[u8];
    /// Writes `value` at `offset`; `None` when the memory is read-only.
    fn write(&mut self, offset: usize, value: &[u8]) -> Option<()>;
}

impl Memory for &[u8] {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    fn write(&mut self, _: usize, _: &[u8]) -> Option<()> {
        None
    }
}

impl Memory for &mut [u8] {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline]
    fn write(&mut self, offset: usize, value: &[u8]) -> Option<()> {
        self[offset..offset + value.len()].copy_from_slice(value);
        Some(())
    }
}

#[inline]
fn read_u8(mem: &[u8], offset: usize) -> i32 {
    i32::from(mem[offset])
}

#[inline]
fn read_i16(mem: &[u8], offset: usize) -> i32 {
    i32::from(i16::from_le_bytes([mem[offset], mem[offset + 1]]))
}

/// Checks `index` against `len` and returns it as an element number.
#[inline]
fn element(index: i32, len: u32) -> Result<usize, Fault> {
    if index >= 0 && (index as u32) < len {
        Ok(index as usize)
    } else {
        Err(Fault::BadIndex)
    }
}

/// Runs `code` on `mem` with `stack` as scratch (at least `code.max_stack` long) and
/// returns the value left on top of the stack (0 if none).
///
/// Store instructions on read-only memory are a compiler bug; they report
/// [`Fault::OutOfRange`] rather than panicking.
#[inline]
pub fn run<M: Memory>(code: &Code, mem: &mut M, stack: &mut [i32]) -> Result<i32, Fault> {
    let ops = &code.ops[..];
    let mut sp = 0usize;
    let mut pc = 0usize;
    macro_rules! bin {
        ($f:expr) => {{
            sp -= 1;
            stack[sp - 1] = $f(stack[sp - 1], stack[sp]);
        }};
    }
    macro_rules! push_cmp {
        ($offset:expr, $cmp:tt, $value:expr) => {{
            stack[sp] = i32::from(read_u8(mem.bytes(), $offset as usize) $cmp $value);
            sp += 1;
        }};
    }
    while let Some(&op) = ops.get(pc) {
        pc += 1;
        match op {
            Op::Const(v) => {
                stack[sp] = v;
                sp += 1;
            }
            Op::LoadU8(o) => {
                stack[sp] = read_u8(mem.bytes(), o as usize);
                sp += 1;
            }
            Op::LoadI16(o) => {
                stack[sp] = read_i16(mem.bytes(), o as usize);
                sp += 1;
            }
            Op::LoadU8At { base, len } => {
                let i = element(stack[sp - 1], len)?;
                stack[sp - 1] = read_u8(mem.bytes(), base as usize + i);
            }
            Op::LoadI16At { base, len } => {
                let i = element(stack[sp - 1], len)?;
                stack[sp - 1] = read_i16(mem.bytes(), base as usize + 2 * i);
            }
            Op::Table(t) => {
                let table = &code.tables[t as usize];
                let i = element(stack[sp - 1], table.len() as u32)?;
                stack[sp - 1] = table[i];
            }
            Op::InState {
                offset,
                wide,
                state,
            } => {
                let current = if wide {
                    read_i16(mem.bytes(), offset as usize) as u16
                } else {
                    u16::from(mem.bytes()[offset as usize])
                };
                stack[sp] = i32::from(current == state);
                sp += 1;
            }
            Op::LoadU8ByU8 { base, len, index } => {
                let i = element(read_u8(mem.bytes(), index as usize), len)?;
                stack[sp] = read_u8(mem.bytes(), base as usize + i);
                sp += 1;
            }
            Op::EqU8 { offset, value } => push_cmp!(offset, ==, value),
            Op::NeU8 { offset, value } => push_cmp!(offset, !=, value),
            Op::LtU8 { offset, value } => push_cmp!(offset, <, value),
            Op::LeU8 { offset, value } => push_cmp!(offset, <=, value),
            Op::GtU8 { offset, value } => push_cmp!(offset, >, value),
            Op::GeU8 { offset, value } => push_cmp!(offset, >=, value),
            Op::Unary(u) => stack[sp - 1] = unary(u, stack[sp - 1]),
            Op::ToBool => stack[sp - 1] = i32::from(stack[sp - 1] != 0),
            Op::Add => bin!(|a: i32, b: i32| a.wrapping_add(b)),
            Op::Sub => bin!(|a: i32, b: i32| a.wrapping_sub(b)),
            Op::Mul => bin!(|a: i32, b: i32| a.wrapping_mul(b)),
            Op::Div => {
                sp -= 1;
                stack[sp - 1] = binary(BinaryOp::Div, stack[sp - 1], stack[sp])?;
            }
            Op::Rem => {
                sp -= 1;
                stack[sp - 1] = binary(BinaryOp::Rem, stack[sp - 1], stack[sp])?;
            }
            Op::BitAnd => bin!(|a: i32, b: i32| a & b),
            Op::BitOr => bin!(|a: i32, b: i32| a | b),
            Op::BitXor => bin!(|a: i32, b: i32| a ^ b),
            Op::Shl => bin!(|a: i32, b: i32| a.wrapping_shl(b as u32)),
            Op::Shr => bin!(|a: i32, b: i32| a.wrapping_shr(b as u32)),
            Op::Eq => bin!(|a: i32, b: i32| i32::from(a == b)),
            Op::Ne => bin!(|a: i32, b: i32| i32::from(a != b)),
            Op::Lt => bin!(|a: i32, b: i32| i32::from(a < b)),
            Op::Le => bin!(|a: i32, b: i32| i32::from(a <= b)),
            Op::Gt => bin!(|a: i32, b: i32| i32::from(a > b)),
            Op::Ge => bin!(|a: i32, b: i32| i32::from(a >= b)),
            Op::AndJump(target) => {
                if stack[sp - 1] == 0 {
                    pc = target as usize;
                } else {
                    sp -= 1;
                }
            }
            Op::OrJump(target) => {
                if stack[sp - 1] != 0 {
                    stack[sp - 1] = 1;
                    pc = target as usize;
                } else {
                    sp -= 1;
                }
            }
            Op::ImplyJump(target) => {
                if stack[sp - 1] == 0 {
                    stack[sp - 1] = 1;
                    pc = target as usize;
                } else {
                    sp -= 1;
                }
            }
            Op::StoreU8(o) => {
                sp -= 1;
                store_u8(mem, o as usize, stack[sp])?;
            }
            Op::StoreI16(o) => {
                sp -= 1;
                store_i16(mem, o as usize, stack[sp])?;
            }
            Op::StoreU8At { base, len } => {
                sp -= 2;
                let i = element(stack[sp + 1], len)?;
                store_u8(mem, base as usize + i, stack[sp])?;
            }
            Op::StoreI16At { base, len } => {
                sp -= 2;
                let i = element(stack[sp + 1], len)?;
                store_i16(mem, base as usize + 2 * i, stack[sp])?;
            }
        }
    }
    Ok(if sp > 0 { stack[sp - 1] } else { 0 })
}

#[inline]
fn store_u8<M: Memory>(mem: &mut M, offset: usize, v: i32) -> Result<(), Fault> {
    if !(0..=255).contains(&v) {
        return Err(Fault::OutOfRange);
    }
    mem.write(offset, &[v as u8]).ok_or(Fault::OutOfRange)
}

#[inline]
fn store_i16<M: Memory>(mem: &mut M, offset: usize, v: i32) -> Result<(), Fault> {
    if !(-32768..=32767).contains(&v) {
        return Err(Fault::OutOfRange);
    }
    mem.write(offset, &(v as i16).to_le_bytes())
        .ok_or(Fault::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(ops: Vec<Op>, mem: &[u8]) -> Result<i32, Fault> {
        let code = Code {
            ops,
            tables: vec![vec![10, 20, 30]],
            max_stack: 8,
        };
        let mut stack = [0; 8];
        let mut m = mem;
        run(&code, &mut m, &mut stack)
    }

    #[test]
    fn c_int_arithmetic() {
        use BinaryOp::*;
        assert_eq!(binary(Div, -7, 2), Ok(-3), "division truncates toward zero");
        assert_eq!(
            binary(Rem, -7, 2),
            Ok(-1),
            "remainder has the dividend's sign"
        );
        assert_eq!(binary(Rem, 7, -2), Ok(1));
        assert_eq!(binary(Div, 1, 0), Err(Fault::DivisionByZero));
        assert_eq!(binary(Rem, 1, 0), Err(Fault::DivisionByZero));
        assert_eq!(
            binary(Div, i32::MIN, -1),
            Ok(i32::MIN),
            "wraps, never panics"
        );
        assert_eq!(binary(Add, i32::MAX, 1), Ok(i32::MIN));
        assert_eq!(binary(Shl, 1, 33), Ok(2), "shift count modulo 32");
        assert_eq!(binary(Shr, -8, 1), Ok(-4), "arithmetic right shift");
        assert_eq!(binary(BitXor, 6, 3), Ok(5));
        assert_eq!(binary(Lt, -1, 0), Ok(1));
        assert_eq!(unary(UnaryOp::Not, 7), 0);
        assert_eq!(unary(UnaryOp::BitNot, 0), -1);
        assert_eq!(unary(UnaryOp::Neg, i32::MIN), i32::MIN);
    }

    #[test]
    fn loads_little_endian_ints_and_checks_indices() {
        let mem = [7u8, 0xfe, 0xff, 3];
        assert_eq!(eval(vec![Op::LoadI16(1)], &mem), Ok(-2));
        assert_eq!(
            eval(vec![Op::Const(2), Op::LoadU8At { base: 1, len: 3 }], &mem),
            Ok(3)
        );
        assert_eq!(
            eval(vec![Op::Const(3), Op::LoadU8At { base: 1, len: 3 }], &mem),
            Err(Fault::BadIndex)
        );
        assert_eq!(
            eval(vec![Op::Const(-1), Op::LoadU8At { base: 1, len: 3 }], &mem),
            Err(Fault::BadIndex)
        );
        assert_eq!(eval(vec![Op::Const(1), Op::Table(0)], &mem), Ok(20));
        assert_eq!(
            eval(vec![Op::Const(5), Op::Table(0)], &mem),
            Err(Fault::BadIndex)
        );
    }

    #[test]
    fn short_circuit_skips_faulting_operand() {
        // 0 and (1/0): the division never runs.
        let and = vec![
            Op::Const(0),
            Op::AndJump(6),
            Op::Const(1),
            Op::Const(0),
            Op::Div,
            Op::ToBool,
        ];
        assert_eq!(eval(and, &[]), Ok(0));
        let or = vec![Op::Const(5), Op::OrJump(3), Op::Const(0), Op::Const(9)];
        // `5 or ...` is 1 and jumps to index 3, which pushes 9 on top.
        assert_eq!(eval(or, &[]), Ok(9));
        let imply = vec![Op::Const(0), Op::ImplyJump(3), Op::Const(0)];
        assert_eq!(eval(imply, &[]), Ok(1));
    }

    #[test]
    fn stores_check_the_range_of_the_type() {
        let code = |ops| Code {
            ops,
            tables: vec![],
            max_stack: 4,
        };
        let mut stack = [0; 4];
        let mut buf = [0u8; 3];
        let mut mem: &mut [u8] = &mut buf;
        assert_eq!(
            run(
                &code(vec![Op::Const(255), Op::StoreU8(0)]),
                &mut mem,
                &mut stack
            ),
            Ok(0)
        );
        assert_eq!(
            run(
                &code(vec![Op::Const(256), Op::StoreU8(0)]),
                &mut mem,
                &mut stack
            ),
            Err(Fault::OutOfRange)
        );
        assert_eq!(
            run(
                &code(vec![Op::Const(-1), Op::StoreU8(0)]),
                &mut mem,
                &mut stack
            ),
            Err(Fault::OutOfRange)
        );
        assert_eq!(
            run(
                &code(vec![Op::Const(-32768), Op::StoreI16(1)]),
                &mut mem,
                &mut stack
            ),
            Ok(0)
        );
        assert_eq!(
            run(
                &code(vec![Op::Const(32768), Op::StoreI16(1)]),
                &mut mem,
                &mut stack
            ),
            Err(Fault::OutOfRange)
        );
        assert_eq!(buf, [255, 0x00, 0x80]);
        let mut ro: &[u8] = &[0];
        assert_eq!(
            run(
                &code(vec![Op::Const(1), Op::StoreU8(0)]),
                &mut ro,
                &mut stack
            ),
            Err(Fault::OutOfRange),
            "a store on read-only memory faults instead of panicking"
        );
    }
}
