//! Where the passive data connection goes: the port in the server's answer to `EPSV`
//! (RFC 2428 §3) or `PASV` (RFC 959 §4.1.1).
//!
//! ```text
//! 229 Entering Extended Passive Mode (|||40123|)      EPSV: the port alone, between
//!                                                     "|||" and "|" (any delimiter
//!                                                     character, the same four times)
//! 227 Entering Passive Mode (127,0,0,1,156,187)      PASV: four numbers of an IPv4
//!                                                     address, then the port as two
//!                                                     bytes: 156 * 256 + 187 = 40123
//! ```
//!
//! `EPSV` is asked first: it works over IPv6 too, and names no address, so it works
//! through address translation. A server that does not know it (500, 502) gets `PASV`.
//!
//! Either way the client connects to the address of the control connection, not to the
//! one a `227` names: that is the server's idea of its own address (a private one behind
//! a NAT), and a hostile server could name another machine and make the client connect
//! there for it (the "FTP bounce", RFC 2577 §3). curl and Python's `ftplib` do the same.

/// The port of a `229` reply's text: `Entering Extended Passive Mode (|||40123|)`.
///
/// - `Entering Extended Passive Mode (|||40123|)`: 40123;
/// - `ok (!!!21!)`: 21 (another delimiter);
/// - `(|||0|)`, `(|||70000|)`, `(||40123|)`: none.
pub fn parse_epsv(text: &str) -> Option<u16> {
    let inside = &text[text.find('(')? + 1..];
    let inside = &inside[..inside.find(')')?];
    let mut characters = inside.chars();
    let delimiter = characters.next()?;
    // RFC 2428 §3: <d><d><d><tcp-port><d>, the network protocol and address left empty.
    let rest = inside.strip_prefix([delimiter; 3].iter().collect::<String>().as_str())?;
    let port = rest.strip_suffix(delimiter)?;
    port.parse().ok().filter(|port| *port != 0)
}

/// The port of a `227` reply's text: `Entering Passive Mode (h1,h2,h3,h4,p1,p2)`. Some
/// servers leave out the parentheses (RFC 1123 §4.1.2.6): the six numbers are looked for
/// wherever they are.
///
/// | text                                        | port   |
/// |---------------------------------------------|--------|
/// | `Entering Passive Mode (127,0,0,1,156,187).` | 40123 |
/// | `Entering Passive Mode 10,0,0,7,0,21`       | 21     |
/// | `(127,0,0,1,256,1)`, `(1,2,3)`               | `None` |
pub fn parse_pasv(text: &str) -> Option<u16> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let numbers: Vec<u8> = text[start..]
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .next()?
        .split(',')
        .map(|number| number.parse().ok())
        .collect::<Option<Vec<u8>>>()?;
    let [_, _, _, _, high, low] = numbers[..] else {
        return None;
    };
    Some(u16::from(high) << 8 | u16::from(low)).filter(|port| *port != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epsv_reply_names_the_port_between_delimiters() {
        let table = [
            ("Entering Extended Passive Mode (|||40123|)", Some(40123)),
            ("ok (!!!21!)", Some(21)),
            ("Entering Extended Passive Mode (|||40123|).", Some(40123)),
            ("(|||0|)", None),
            ("(|||70000|)", None),
            ("(||40123|)", None),
            ("(|||40123)", None),
            ("no parentheses", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_epsv(text), expected, "{text}");
        }
    }

    #[test]
    fn a_pasv_reply_names_the_port_in_two_bytes() {
        let table = [
            ("Entering Passive Mode (127,0,0,1,156,187).", Some(40123)),
            ("Entering Passive Mode 10,0,0,7,0,21", Some(21)),
            ("=127,0,0,1,4,1", Some(1025)),
            ("(127,0,0,1,256,1)", None),
            ("(1,2,3)", None),
            ("(127,0,0,1,0,0)", None),
            ("nothing", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_pasv(text), expected, "{text}");
        }
    }
}
