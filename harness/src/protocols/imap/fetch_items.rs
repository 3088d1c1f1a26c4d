//! What a `FETCH` asks for (RFC 3501 §6.4.5): its items and macros, the section a
//! `BODY[...]` names, and the bytes of a message that section is.

use std::borrow::Cow;

use crate::protocols::mailstore::{header_fields, mime_parts, split_message};

/// One item of a `FETCH`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FetchItem {
    Flags,
    Uid,
    Size,
    InternalDate,
    /// Bytes of the message: `label` is how the response names them.
    Content {
        label: String,
        section: BodySection,
        partial: Option<(usize, usize)>,
        /// Fetching it leaves `\Seen` alone.
        peek: bool,
    },
}

/// What part of a message a `BODY[...]` names (RFC 3501 §6.4.5).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum BodySection {
    Whole,
    Header,
    Text,
    Fields {
        names: Vec<String>,
        not: bool,
    },
    /// A MIME part (`1`, `2.1`), its body, or its MIME header (`1.MIME`).
    Part {
        path: Vec<usize>,
        mime: bool,
    },
}

/// A fetch item (or macro) as the client wrote it.
pub(super) fn parse_item(item: &str) -> Result<Vec<FetchItem>, String> {
    let upper = item.to_ascii_uppercase();
    let content = |label: &str, section: BodySection, peek: bool| FetchItem::Content {
        label: label.to_owned(),
        section,
        partial: None,
        peek,
    };
    Ok(match upper.as_str() {
        "FLAGS" => vec![FetchItem::Flags],
        "UID" => vec![FetchItem::Uid],
        "RFC822.SIZE" => vec![FetchItem::Size],
        "INTERNALDATE" => vec![FetchItem::InternalDate],
        "FAST" => vec![FetchItem::Flags, FetchItem::InternalDate, FetchItem::Size],
        "RFC822" => vec![content("RFC822", BodySection::Whole, false)],
        "RFC822.HEADER" => vec![content("RFC822.HEADER", BodySection::Header, true)],
        "RFC822.TEXT" => vec![content("RFC822.TEXT", BodySection::Text, false)],
        _ => {
            let (peek, after) = if let Some(after) = upper.strip_prefix("BODY.PEEK[") {
                (true, after)
            } else if let Some(after) = upper.strip_prefix("BODY[") {
                (false, after)
            } else {
                return Err(format!("the fetch item {item} is not served by this peer"));
            };
            let close = after
                .rfind(']')
                .ok_or_else(|| format!("unclosed section in {item}"))?;
            let section_text = &after[..close];
            let rest = &after[close + 1..];
            let partial = match rest {
                "" => None,
                _ => {
                    let inner = rest
                        .strip_prefix('<')
                        .and_then(|rest| rest.strip_suffix('>'))
                        .ok_or_else(|| format!("invalid partial in {item}"))?;
                    let (start, count) = inner
                        .split_once('.')
                        .ok_or_else(|| format!("invalid partial in {item}"))?;
                    Some((
                        start
                            .parse()
                            .map_err(|_| format!("invalid partial in {item}"))?,
                        count
                            .parse()
                            .map_err(|_| format!("invalid partial in {item}"))?,
                    ))
                }
            };
            let section = parse_section(section_text)
                .ok_or_else(|| format!("invalid section [{section_text}]"))?;
            vec![FetchItem::Content {
                label: format!("BODY[{section_text}]"),
                section,
                partial,
                peek,
            }]
        }
    })
}

/// A section's text, in capitals: `HEADER.FIELDS (FROM SUBJECT)`, `1.MIME`, ``.
fn parse_section(text: &str) -> Option<BodySection> {
    let names = |list: &str| -> Option<Vec<String>> {
        let inner = list.trim().strip_prefix('(')?.strip_suffix(')')?;
        Some(
            inner
                .split_whitespace()
                .map(|name| name.trim_matches('"').to_owned())
                .collect(),
        )
    };
    if text.is_empty() {
        return Some(BodySection::Whole);
    }
    if text == "HEADER" {
        return Some(BodySection::Header);
    }
    if text == "TEXT" {
        return Some(BodySection::Text);
    }
    if let Some(list) = text.strip_prefix("HEADER.FIELDS.NOT") {
        return Some(BodySection::Fields {
            names: names(list)?,
            not: true,
        });
    }
    if let Some(list) = text.strip_prefix("HEADER.FIELDS") {
        return Some(BodySection::Fields {
            names: names(list)?,
            not: false,
        });
    }
    let mut path = Vec::new();
    let mut mime = false;
    for word in text.split('.') {
        if mime {
            return None;
        }
        match word.parse::<usize>() {
            Ok(number) if number > 0 => path.push(number),
            _ if word == "MIME" && !path.is_empty() => mime = true,
            _ => return None,
        }
    }
    Some(BodySection::Part { path, mime })
}

/// The bytes a section names, if the message has that part.
pub(super) fn section_bytes<'m>(raw: &'m [u8], section: &BodySection) -> Option<Cow<'m, [u8]>> {
    let (header, body) = split_message(raw);
    Some(Cow::Borrowed(match section {
        BodySection::Whole => raw,
        BodySection::Header => header,
        BodySection::Text => body,
        BodySection::Fields { names, not } => {
            return Some(Cow::Owned(header_fields(header, names, *not)));
        }
        BodySection::Part { path, mime } => {
            // An entity (header and body); part 1 of a message that is not multipart is
            // its body.
            let mut entity = raw;
            for number in path {
                let parts = mime_parts(entity);
                if parts.is_empty() {
                    if *number != 1 {
                        return None;
                    }
                } else {
                    entity = parts.get(number - 1)?;
                }
            }
            let (header, body) = split_message(entity);
            if *mime { header } else { body }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_sections_parse() {
        let items = parse_item("BODY.PEEK[HEADER.FIELDS (FROM \"SUBJECT\")]<0.10>").unwrap();
        assert_eq!(
            items,
            [FetchItem::Content {
                label: "BODY[HEADER.FIELDS (FROM \"SUBJECT\")]".into(),
                section: BodySection::Fields {
                    names: vec!["FROM".into(), "SUBJECT".into()],
                    not: false
                },
                partial: Some((0, 10)),
                peek: true,
            }]
        );
        assert_eq!(
            parse_section("2.MIME"),
            Some(BodySection::Part {
                path: vec![2],
                mime: true
            })
        );
        assert!(parse_item("ENVELOPE").is_err());
    }

    #[test]
    fn sections_name_the_right_bytes() {
        let inbox = crate::protocols::mailstore::seeded("inbox").unwrap();
        let raw = &inbox[1].raw;
        let part = |text: &str| section_bytes(raw, &parse_section(text).unwrap()).unwrap();
        assert!(part("1").starts_with(b"Hello Alice"));
        assert!(
            part("2").starts_with(b"AAcOFRwj"),
            "{:?}",
            String::from_utf8_lossy(&part("2"))
        );
        assert!(part("2.MIME").starts_with(b"Content-Type: application/octet-stream"));
        assert!(section_bytes(raw, &parse_section("3").unwrap()).is_none());
        // Part 1 of a message that is not multipart is its body.
        let plain = &inbox[0].raw;
        let body = section_bytes(plain, &parse_section("1").unwrap()).unwrap();
        assert!(body.starts_with(b"Hi Alice"));
    }
}
