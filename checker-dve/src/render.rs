//! Readable text for states and actions: `var = value` lines, control states by name.

use std::fmt::Write;

use checker_core::Action;

use crate::ast::Type;
use crate::compile::Compiled;
use crate::successors::decode;

fn read(ty: Type, state: &[u8], at: usize) -> i32 {
    match ty {
        Type::Byte => i32::from(state[at]),
        Type::Int => i32::from(i16::from_le_bytes([state[at], state[at + 1]])),
    }
}

/// One line per global variable and buffered channel, then per process a line with its
/// control state followed by lines for its local variables.
pub fn render_state(c: &Compiled, state: &[u8]) -> String {
    if state.len() != c.width {
        return format!("<not a state of this model: {} bytes>", state.len());
    }
    if c.is_error_state(state) {
        return "<DiVinE error state: a value out of range, an array index out of range, a division by zero, \
                or a rendezvous whose two sides both assign one global variable>"
            .to_string();
    }
    let mut out = String::new();
    let var_line = |out: &mut String, v: &crate::ir::Variable| {
        let w = v.ty.width();
        let value = match v.array_len {
            None => read(v.ty, state, v.offset).to_string(),
            Some(n) => {
                let items: Vec<String> = (0..n as usize)
                    .map(|i| read(v.ty, state, v.offset + i * w).to_string())
                    .collect();
                format!("[{}]", items.join(", "))
            }
        };
        let _ = writeln!(out, "{} = {value}", v.name);
    };
    for v in c.variables.iter().filter(|v| v.is_global()) {
        var_line(&mut out, v);
    }
    for ch in c.channels.iter().filter(|ch| ch.buffer > 0) {
        let types = ch.item_types.as_deref().unwrap_or(&[]);
        let count = usize::from(state[ch.offset]).min(ch.buffer as usize);
        let mut at = ch.offset + 1;
        let mut messages = Vec::new();
        for _ in 0..count {
            let items: Vec<String> = types
                .iter()
                .map(|ty| {
                    let v = read(*ty, state, at);
                    at += ty.width();
                    v.to_string()
                })
                .collect();
            messages.push(if items.len() == 1 {
                items[0].clone()
            } else {
                format!("({})", items.join(", "))
            });
        }
        let _ = writeln!(out, "{} = [{}]", ch.name, messages.join(", "));
    }
    for (pi, p) in c.processes.iter().enumerate() {
        let s = p.control(state);
        match p.states.get(s) {
            Some(name) => {
                let _ = writeln!(out, "{} = {name}", p.name);
            }
            None => {
                let _ = writeln!(out, "{} = <state {s}>", p.name);
            }
        }
        for v in c.variables.iter().filter(|v| v.process == Some(pi)) {
            var_line(&mut out, v);
        }
    }
    out.pop();
    out
}

/// `P: s -> t` for a local step, `P: s -> t sync c! with Q: u -> v` for a rendezvous.
pub fn render_action(c: &Compiled, action: Action) -> String {
    let (t, with) = decode(action);
    let label = |i: u32| c.transitions.get(i as usize).map(|t| t.label.as_str());
    match (label(t), with.map(label)) {
        (Some(l), None) => l.to_string(),
        (Some(s), Some(Some(r))) => {
            let r = r.split(" sync ").next().unwrap_or(r);
            format!("{s} with {r}")
        }
        _ => format!("unknown action {}", action.0),
    }
}
