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
//!   has one: `invalid.`, which RFC 6761 §6.4 reserves for names that must not resolve;
//! - zones it is *authoritative* for, read from master files (RFC 1035 §5, the format of
//!   BIND and every name server: `fixtures/zones/*.zone`, named by a scenario's `zones`).
//!   Under a zone's origin nothing is default: a name has exactly the records the file
//!   gives it, a name the file does not know does not exist (`NXDOMAIN`), and a name
//!   with records of other types only has no record of the one asked (NODATA). That is
//!   how a scenario makes a domain with MX records and ties, one with addresses only
//!   (the implicit MX), a null MX, or a name with neither MX nor address.
//!
//! Other types with no explicit record get an empty answer with `NOERROR` ("the name
//! exists, it has no record of that type": RFC 2308 §2.2, NODATA).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How long a client may keep an answer. Short: a scenario lasts seconds, and nothing the
/// harness says should outlive it in a caching resolver.
pub const TTL: u32 = 5;

/// Where the kit keeps the master files scenarios name, under its root.
pub const ZONE_FOLDER: &str = "fixtures/zones";

/// The names the harness answers for and how.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Explicit records, by lower-case name and type.
    records: BTreeMap<(Name, RecordType), Vec<RData>>,
    /// Names that do not exist, with every name under them.
    missing: Vec<Name>,
    /// Zones read from master files, where only their records exist.
    authorities: Vec<Authority>,
}

/// A zone read from a master file: everything under its origin is what the file says.
#[derive(Debug, Clone)]
struct Authority {
    origin: Name,
    records: BTreeMap<(Name, RecordType), Vec<RData>>,
    /// Every name that owns a record, with the names between it and the origin (RFC
    /// 8020: a name with something under it exists, even with no record of its own).
    names: BTreeSet<Name>,
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
            authorities: Vec::new(),
        }
    }

    /// The standard zone, authoritative too for the kit's master files `names`
    /// (`fixtures/zones/<name>.zone`, as a scenario's `zones` names them).
    pub fn with_kit_files(kit_root: &Path, names: &[String]) -> Result<Zone, String> {
        let mut zone = Zone::standard();
        for name in names {
            if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(format!(
                    "zone `{name}`: name a master file of fixtures/zones/ by its stem (`mail-lab`)"
                ));
            }
            let path = kit_root.join(ZONE_FOLDER).join(format!("{name}.zone"));
            if !path.is_file() {
                return Err(format!(
                    "zone `{name}`: there is no {ZONE_FOLDER}/{name}.zone in the kit"
                ));
            }
            zone.load_master_file(&path)?;
        }
        Ok(zone)
    }

    /// Makes the harness authoritative for the zone of the master file at `path` (its
    /// `$ORIGIN`). The error names the file and says what is wrong in it.
    pub fn load_master_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let (origin, sets) =
            hickory_proto::serialize::txt::Parser::new(text, Some(path.to_owned()), None)
                .parse()
                .map_err(|error| format!("{}: {error}", path.display()))?;
        let origin = origin.to_lowercase();
        let mut authority = Authority {
            origin: origin.clone(),
            records: BTreeMap::new(),
            names: BTreeSet::from([origin.clone()]),
        };
        for (key, set) in sets {
            let mut name = Name::from(key.name).to_lowercase();
            if !origin.zone_of(&name) {
                return Err(format!(
                    "{}: `{name}` is outside the zone's origin `{origin}`",
                    path.display()
                ));
            }
            let data = authority
                .records
                .entry((name.clone(), key.record_type))
                .or_default();
            data.extend(
                set.records_without_rrsigs()
                    .map(|record| record.data.clone()),
            );
            while name != origin && authority.names.insert(name.clone()) {
                name = name.base_name();
            }
        }
        self.authorities.push(authority);
        Ok(())
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
        // The innermost zone read from a file that holds the name decides alone.
        if let Some(authority) = self
            .authorities
            .iter()
            .filter(|authority| authority.origin.zone_of(&name))
            .max_by_key(|authority| authority.origin.num_labels())
        {
            if !authority.names.contains(&name) {
                return Lookup::NoSuchName;
            }
            let records = authority.records.get(&(name.clone(), kind));
            return Lookup::Records(records.into_iter().flatten().cloned().map(answer).collect());
        }
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
