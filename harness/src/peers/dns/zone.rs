//! What the harness's DNS knows: every name is this machine, unless the zone says otherwise.
//!
//! A student's client may look up any name (`servername`, `smtp.gmail.com`,
//! `imap.example.com`), and inside a scenario all of them must lead to the harness. So the
//! zone has a *default* answer for every name, the loopback (`A 127.0.0.1`, `AAAA ::1`),
//! and two ways to say more:
//!
//! - explicit records for a name and type, which replace the default for that pair (a
//!   scenario giving `mail.example.com` an `MX`, or `lab.example.com` an `A 192.0.2.10`:
//!   with the harness's local routes every address leads here too);
//! - names that do not exist (`NXDOMAIN`), with everything under them. The standard zone
//!   has one: `invalid.`, which RFC 6761 §6.4 reserves for names that must not resolve.
//!
//! Other types with no explicit record get an empty answer with `NOERROR` ("the name
//! exists, it has no record of that type": RFC 2308 §2.2, NODATA).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How long a client may keep an answer. Short: a scenario lasts seconds, and nothing the
/// harness says should outlive it in a caching resolver.
pub const TTL: u32 = 5;

/// The names the harness answers for and how.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Explicit records, by lower-case name and type.
    records: BTreeMap<(Name, RecordType), Vec<RData>>,
    /// Names that do not exist, with every name under them.
    missing: Vec<Name>,
}

/// The zone's answer to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The name exists: these records (none: no record of that type).
    Records(Vec<Record>),
    /// The name does not exist (`NXDOMAIN`).
    NoSuchName,
}

impl Zone {
    /// Every name is the loopback, but `invalid.` and the names under it do not exist.
    pub fn standard() -> Zone {
        Zone {
            records: BTreeMap::new(),
            missing: vec![Name::from_ascii("invalid.").expect("a valid name")],
        }
    }

    /// Adds a record for `name` (`"mail.example.com"`; a trailing dot is optional): the
    /// records of its type replace the default answer for that name and type.
    pub fn add(&mut self, name: &str, data: RData) -> Result<(), String> {
        let name = fully_qualified(name)?;
        self.records
            .entry((name, data.record_type()))
            .or_default()
            .push(data);
        Ok(())
    }

    /// Says `name` and every name under it do not exist.
    pub fn remove(&mut self, name: &str) -> Result<(), String> {
        self.missing.push(fully_qualified(name)?);
        Ok(())
    }

    /// The answer for `name` and `kind`.
    pub fn lookup(&self, name: &Name, kind: RecordType) -> Lookup {
        let name = name.to_lowercase();
        if self.missing.iter().any(|missing| missing.zone_of(&name)) {
            return Lookup::NoSuchName;
        }
        let answer = |data: RData| Record::from_rdata(name.clone(), TTL, data);
        let records = match self.records.get(&(name.clone(), kind)) {
            Some(explicit) => explicit.iter().cloned().map(answer).collect(),
            None => match kind {
                RecordType::A => vec![answer(RData::A(A(Ipv4Addr::LOCALHOST)))],
                RecordType::AAAA => vec![answer(RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)))],
                _ => Vec::new(),
            },
        };
        Lookup::Records(records)
    }
}

/// `name` as a lower-case, fully qualified name (`mail.example.com.`).
fn fully_qualified(name: &str) -> Result<Name, String> {
    let mut parsed = Name::from_ascii(name)
        .map_err(|error| format!("`{name}` is not a domain name: {error}"))?;
    parsed.set_fqdn(true);
    Ok(parsed.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(zone: &Zone, name: &str, kind: RecordType) -> Lookup {
        zone.lookup(&Name::from_ascii(name).unwrap(), kind)
    }

    fn data(lookup: Lookup) -> Vec<RData> {
        match lookup {
            Lookup::Records(records) => records.iter().map(|record| record.data.clone()).collect(),
            Lookup::NoSuchName => panic!("NXDOMAIN"),
        }
    }

    #[test]
    fn every_name_is_the_loopback_by_default() {
        let zone = Zone::standard();
        for name in ["servername.", "smtp.gmail.com.", "SMTP.Example.COM."] {
            assert_eq!(
                data(lookup(&zone, name, RecordType::A)),
                [RData::A(A(Ipv4Addr::LOCALHOST))]
            );
            assert_eq!(
                data(lookup(&zone, name, RecordType::AAAA)),
                [RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))]
            );
        }
    }

    #[test]
    fn other_types_have_no_records_but_the_name_exists() {
        let zone = Zone::standard();
        assert!(data(lookup(&zone, "example.com.", RecordType::MX)).is_empty());
        assert!(data(lookup(&zone, "example.com.", RecordType::TXT)).is_empty());
    }

    #[test]
    fn invalid_names_do_not_exist() {
        let zone = Zone::standard();
        assert_eq!(
            lookup(&zone, "no-such-host.invalid.", RecordType::A),
            Lookup::NoSuchName
        );
        assert_eq!(
            lookup(&zone, "invalid.", RecordType::AAAA),
            Lookup::NoSuchName
        );
    }

    #[test]
    fn an_explicit_record_replaces_the_default_for_its_name_and_type_only() {
        let mut zone = Zone::standard();
        let lab = Ipv4Addr::new(192, 0, 2, 10);
        zone.add("Lab.Example.com", RData::A(A(lab))).unwrap();
        assert_eq!(
            data(lookup(&zone, "lab.example.com.", RecordType::A)),
            [RData::A(A(lab))]
        );
        assert_eq!(
            data(lookup(&zone, "lab.example.com.", RecordType::AAAA)),
            [RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))]
        );
    }

    #[test]
    fn a_removed_name_takes_the_names_under_it() {
        let mut zone = Zone::standard();
        zone.remove("gone.example.com").unwrap();
        assert_eq!(
            lookup(&zone, "www.gone.example.com.", RecordType::A),
            Lookup::NoSuchName
        );
        assert_ne!(
            lookup(&zone, "example.com.", RecordType::A),
            Lookup::NoSuchName
        );
    }
}
