//! The methods the server offers (SPEC rpc/1), and `system.multicall`, which runs several
//! of them for one request.
//!
//! Each method checks its parameters itself, their number and types, and answers a fault
//! rather than failing: a Python server whose `add` is `lambda a, b: a + b` answers
//! `add("2", 3)` with a fault too, but only because its dispatcher catches the
//! `TypeError` (SPEC rpc/4).

use std::time::Duration;

use super::message::{Fault, codes};
use super::value::Value;

/// The methods, as `system.listMethods` lists them.
pub const METHODS: &[&str] = &[
    "add",
    "multiply",
    "pow",
    "sleep",
    "system.listMethods",
    "system.multicall",
];

/// The longest `sleep` accepted, in seconds (SPEC rpc/1: over 5 is a fault).
pub const MAX_SLEEP: f64 = 5.0;

/// Runs the method `method` on `params`: its value, or the fault to answer.
pub fn dispatch(method: &str, params: &[Value]) -> Result<Value, Fault> {
    match method {
        "add" => arithmetic(method, params, i32::checked_add, |a, b| a + b),
        "multiply" => arithmetic(method, params, i32::checked_mul, |a, b| a * b),
        "pow" => arithmetic(method, params, int_pow, f64::powf),
        "sleep" => sleep(params),
        "system.listMethods" => {
            count(method, params, 0)?;
            Ok(Value::Array(
                METHODS
                    .iter()
                    .map(|name| Value::String((*name).into()))
                    .collect(),
            ))
        }
        "system.multicall" => multicall(params),
        other => Err(Fault::new(
            codes::METHOD_NOT_FOUND,
            format!("no method named `{other}` (system.listMethods lists them)"),
        )),
    }
}

/// `system.multicall([{methodName, params}, ...])`: one array, each call's value wrapped
/// in a one-element array, a failed call's fault struct in its place; the calls after a
/// failed one still run (the multicall convention, <https://mirrors.talideon.com/articles/multicall.html>).
///
/// ```text
/// [{methodName: add, params: [1, 2]}, {methodName: nope, params: []}, {methodName: pow, params: [2, 3]}]
///   -> [[3], {faultCode: -32601, faultString: "no method named `nope`..."}, [8]]
/// ```
fn multicall(params: &[Value]) -> Result<Value, Fault> {
    count("system.multicall", params, 1)?;
    let Value::Array(calls) = &params[0] else {
        return Err(wrong_type(
            "system.multicall",
            1,
            "an array of structs",
            &params[0],
        ));
    };
    let results = calls
        .iter()
        .map(|call| match run_one(call) {
            Ok(value) => Value::Array(vec![value]),
            Err(fault) => fault.to_value(),
        })
        .collect();
    Ok(Value::Array(results))
}

/// One call of a multicall: a struct of `methodName` (a string) and `params` (an array).
fn run_one(call: &Value) -> Result<Value, Fault> {
    let invalid = |reason: &str| Fault::new(codes::INVALID_PARAMS, reason.to_owned());
    let Some(Value::String(method)) = call.member("methodName") else {
        return Err(invalid(
            "each call of system.multicall is a struct with a string `methodName`",
        ));
    };
    let Some(Value::Array(params)) = call.member("params") else {
        return Err(invalid(
            "each call of system.multicall is a struct with an array `params`",
        ));
    };
    if method == "system.multicall" {
        // A multicall inside a multicall could nest without end: refused, as Python does.
        return Err(invalid("system.multicall cannot call system.multicall"));
    }
    dispatch(method, params)
}

/// `add`, `multiply`, `pow`: two numbers. Two integers give an integer, or a fault if the
/// result needs more than 32 bits (SPEC rpc/1); a double on either side gives a double.
fn arithmetic(
    method: &str,
    params: &[Value],
    on_ints: fn(i32, i32) -> Option<i32>,
    on_doubles: fn(f64, f64) -> f64,
) -> Result<Value, Fault> {
    count(method, params, 2)?;
    let number = |index: usize| match &params[index] {
        Value::Int(number) => Ok(f64::from(*number)),
        Value::Double(number) => Ok(*number),
        other => Err(wrong_type(method, index + 1, "an int or a double", other)),
    };
    let (a, b) = (number(0)?, number(1)?);
    if let (Value::Int(x), Value::Int(y)) = (&params[0], &params[1]) {
        // A negative power of an integer is a fraction: computed as doubles below.
        if !(method == "pow" && *y < 0) {
            return on_ints(*x, *y).map(Value::Int).ok_or_else(|| {
                Fault::new(
                    codes::APPLICATION_ERROR,
                    format!(
                        "{method}({x}, {y}) = {} needs more than 32 bits, the most an XML-RPC <int> holds",
                        on_doubles(a, b)
                    ),
                )
            });
        }
    }
    let result = on_doubles(a, b);
    if result.is_finite() {
        Ok(Value::Double(result))
    } else {
        Err(Fault::new(
            codes::APPLICATION_ERROR,
            format!("{method}({a:?}, {b:?}) is not a finite number, which XML-RPC cannot carry"),
        ))
    }
}

/// `x ** y` for `y >= 0`, if it fits in 32 bits.
fn int_pow(x: i32, y: i32) -> Option<i32> {
    x.checked_pow(u32::try_from(y).ok()?)
}

/// `sleep(seconds)`: waits that long, then answers `seconds` as it came (SPEC rpc/1). The
/// wait blocks this connection's thread only: the other clients' threads run on (rpc/2).
fn sleep(params: &[Value]) -> Result<Value, Fault> {
    count("sleep", params, 1)?;
    let seconds = match &params[0] {
        Value::Int(number) => f64::from(*number),
        Value::Double(number) => *number,
        other => return Err(wrong_type("sleep", 1, "an int or a double", other)),
    };
    if !(0.0..=MAX_SLEEP).contains(&seconds) {
        return Err(Fault::new(
            codes::APPLICATION_ERROR,
            format!("sleep({seconds:?}): from 0 to {MAX_SLEEP:?} seconds only"),
        ));
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    Ok(params[0].clone())
}

/// A fault unless `params` has `wanted` values.
fn count(method: &str, params: &[Value], wanted: usize) -> Result<(), Fault> {
    if params.len() == wanted {
        Ok(())
    } else {
        Err(Fault::new(
            codes::INVALID_PARAMS,
            format!("{method} takes {wanted} parameters, not {}", params.len()),
        ))
    }
}

fn wrong_type(method: &str, position: usize, wanted: &str, got: &Value) -> Fault {
    Fault::new(
        codes::INVALID_PARAMS,
        format!(
            "{method}: parameter {position} must be {wanted}, not a {}",
            got.type_name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<Value, Fault>) -> i32 {
        result.unwrap_err().code
    }

    #[test]
    fn integers_stay_integers_and_doubles_spread() {
        assert_eq!(
            dispatch("add", &[Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(5))
        );
        assert_eq!(
            dispatch("multiply", &[Value::Int(3), Value::Double(0.5)]),
            Ok(Value::Double(1.5))
        );
        assert_eq!(
            dispatch("pow", &[Value::Int(2), Value::Int(10)]),
            Ok(Value::Int(1024))
        );
        assert_eq!(
            dispatch("pow", &[Value::Int(2), Value::Int(-1)]),
            Ok(Value::Double(0.5))
        );
    }

    #[test]
    fn an_integer_beyond_32_bits_is_a_fault() {
        assert_eq!(
            code(dispatch("pow", &[Value::Int(2), Value::Int(40)])),
            codes::APPLICATION_ERROR
        );
        assert_eq!(
            code(dispatch("add", &[Value::Int(i32::MAX), Value::Int(1)])),
            codes::APPLICATION_ERROR
        );
    }

    #[test]
    fn wrong_counts_types_and_names_are_faults() {
        assert_eq!(
            code(dispatch("add", &[Value::Int(1)])),
            codes::INVALID_PARAMS
        );
        assert_eq!(
            code(dispatch("add", &[Value::String("2".into()), Value::Int(3)])),
            codes::INVALID_PARAMS
        );
        assert_eq!(code(dispatch("nope", &[])), codes::METHOD_NOT_FOUND);
        assert_eq!(
            code(dispatch("sleep", &[Value::Int(6)])),
            codes::APPLICATION_ERROR
        );
    }

    #[test]
    fn a_multicall_goes_on_after_a_fault() {
        let call = |name: &str, params: Vec<Value>| {
            Value::Struct(vec![
                ("methodName".into(), Value::String(name.into())),
                ("params".into(), Value::Array(params)),
            ])
        };
        let result = dispatch(
            "system.multicall",
            &[Value::Array(vec![
                call("add", vec![Value::Int(1), Value::Int(2)]),
                call("nope", vec![]),
                call("pow", vec![Value::Int(2), Value::Int(3)]),
            ])],
        )
        .unwrap();
        let Value::Array(results) = result else {
            panic!("{result:?}")
        };
        assert_eq!(results[0], Value::Array(vec![Value::Int(3)]));
        assert_eq!(
            Fault::from_value(&results[1]).map(|fault| fault.code),
            Some(codes::METHOD_NOT_FOUND)
        );
        assert_eq!(results[2], Value::Array(vec![Value::Int(8)]));
    }
}
