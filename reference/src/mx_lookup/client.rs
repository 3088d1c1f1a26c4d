//! The program: the address's domain, which server to ask, the lookups in order, and the
//! lines printed (SPEC `mx/1`, `mx/2`).

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::resolver::{self, Failure};
use crate::cli::{self, Stdio};
use crate::cli::{Server, parse_server};
use crate::net::Network;

/// Mail servers of an e-mail address: its domain's MX records, lowest preference first,
/// each with its addresses.
#[derive(Parser)]
#[command(name = "mx-lookup")]
struct Args {
    /// The e-mail address (`alice@example.com`) whose domain's mail servers to list.
    #[arg(value_parser = parse_domain, value_name = "ADDRESS")]
    address: Name,
    /// The DNS server to ask, HOST:PORT (default: the system's, from /etc/resolv.conf).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_server)]
    dns: Option<Server>,
}

/// The domain of an address, as a fully qualified DNS name.
///
/// | argument               | domain          |
/// |------------------------|-----------------|
/// | `alice@example.com`    | `example.com.`  |
/// | `"a@b"@mail.example`   | `mail.example.` (the last `@` separates the domain) |
/// | `example.com`          | error: no `@`   |
/// | `alice@`               | error: empty domain |
fn parse_domain(address: &str) -> Result<Name, String> {
    let Some((_, domain)) = address.rsplit_once('@') else {
        return Err("not an e-mail address: it has no @".into());
    };
    if domain.is_empty() || domain == "." {
        return Err("not an e-mail address: its domain is empty".into());
    }
    // `from_utf8` also turns a non-ASCII domain into its ASCII form (IDNA: `xn--...`).
    let mut name = Name::from_utf8(domain).map_err(|error| format!("{domain:?}: {error}"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// One mail host of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHost {
    /// Lower is tried first (RFC 5321 §5.1).
    pub preference: u16,
    pub name: Name,
    /// Its IPv4 then IPv6 addresses (none: the name has no address).
    pub addresses: Vec<IpAddr>,
}

/// What the DNS says of a domain's mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailHosts {
    /// Its mail hosts, in the order to try them.
    Listed(Vec<MailHost>),
    /// A null MX (`0 .`, RFC 7505): the domain says it accepts no mail.
    NoMail,
}

/// `mx-lookup ADDRESS [--dns HOST:PORT]`: prints the domain's mail hosts, one per line
/// (`10 mx1.example.com. 192.0.2.25 2001:db8::25`), or that it takes no mail; exit 0.
/// No such domain, no mail host at all, or no answer: a message on stderr, exit 1.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let server = match &args.dns {
        Some(dns) => match net.resolve(&dns.host, dns.port).await {
            Ok(address) => address,
            Err(error) => {
                let context = format!("cannot find the DNS server {}", dns.host);
                return cli::fail(&mut stdio.stderr, "mx-lookup", context, error).await;
            }
        },
        None => match std::fs::read_to_string("/etc/resolv.conf") {
            Ok(text) => match resolver::system_server(&text) {
                Some(server) => server,
                None => {
                    let error = "no IPv4 nameserver line in /etc/resolv.conf";
                    return cli::fail(&mut stdio.stderr, "mx-lookup", "no DNS server", error).await;
                }
            },
            Err(error) => {
                let context = "cannot read /etc/resolv.conf";
                return cli::fail(&mut stdio.stderr, "mx-lookup", context, error).await;
            }
        },
    };
    let domain = &args.address;
    let hosts = match mail_hosts(&net, server, domain).await {
        Ok(hosts) => hosts,
        Err(error) => return cli::fail(&mut stdio.stderr, "mx-lookup", domain, error).await,
    };
    let text = match hosts {
        MailHosts::NoMail => format!("{domain} accepts no mail (null MX)\n"),
        MailHosts::Listed(hosts) => hosts.iter().map(line).collect(),
    };
    use tokio::io::AsyncWriteExt;
    let written = async {
        stdio.stdout.write_all(text.as_bytes()).await?;
        stdio.stdout.flush().await
    };
    match written.await {
        Ok(()) => 0,
        Err(error) => cli::fail(&mut stdio.stderr, "mx-lookup", "cannot write", error).await,
    }
}

/// `10 mx1.example.com. 192.0.2.25 2001:db8::25`, and its newline.
fn line(host: &MailHost) -> String {
    let mut line = format!("{} {}", host.preference, host.name);
    for address in &host.addresses {
        line.push_str(&format!(" {address}"));
    }
    line.push('\n');
    line
}

/// The mail hosts of `domain`, asking `server`: its MX records with their addresses; none,
/// its own addresses (the implicit MX); a null MX, no mail.
pub async fn mail_hosts<N: Network>(
    net: &N,
    server: SocketAddr,
    domain: &Name,
) -> Result<MailHosts, String> {
    let answer = ask(net, server, domain, RecordType::MX).await?;
    if answer.metadata.response_code == ResponseCode::NXDomain {
        return Err("no such domain (NXDOMAIN)".into());
    }
    let mut exchanges: Vec<(u16, Name)> = answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.clone())),
            _ => None,
        })
        .collect();
    // RFC 7505 §3: a null MX is the domain's only MX record, `0 .`.
    if exchanges.iter().any(|(_, exchange)| exchange.is_root()) {
        return Ok(MailHosts::NoMail);
    }
    if exchanges.is_empty() {
        // RFC 5321 §5.1: no MX record, the domain itself is its mail host.
        let addresses = addresses_of(net, server, domain).await?;
        if addresses.is_empty() {
            return Err("no mail host: neither an MX record nor an address".into());
        }
        return Ok(MailHosts::Listed(vec![MailHost {
            preference: 0,
            name: domain.clone(),
            addresses,
        }]));
    }
    // Preferences are numbers (10 before 5 would be text order); ties by name, without
    // regard to case, as DNS names compare.
    exchanges.sort_by_cached_key(|(preference, name)| {
        (*preference, name.to_ascii().to_ascii_lowercase())
    });
    let mut hosts = Vec::with_capacity(exchanges.len());
    for (preference, name) in exchanges {
        let addresses = addresses_of(net, server, &name).await?;
        hosts.push(MailHost {
            preference,
            name,
            addresses,
        });
    }
    Ok(MailHosts::Listed(hosts))
}

/// The IPv4 and IPv6 addresses of `name` (none if it has none, or does not exist).
async fn addresses_of<N: Network>(
    net: &N,
    server: SocketAddr,
    name: &Name,
) -> Result<Vec<IpAddr>, String> {
    let mut addresses = Vec::new();
    for kind in [RecordType::A, RecordType::AAAA] {
        let answer = ask(net, server, name, kind).await?;
        addresses.extend(
            answer
                .answers
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                }),
        );
    }
    Ok(addresses)
}

/// One question, its failures said as the program reports them; an answer that is neither
/// an answer nor "no such name" (SERVFAIL, REFUSED) is a failure too.
async fn ask<N: Network>(
    net: &N,
    server: SocketAddr,
    name: &Name,
    kind: RecordType,
) -> Result<Message, String> {
    let answer = resolver::ask(net, server, name, kind)
        .await
        .map_err(|failure: Failure| format!("{kind} {name} asked of {server}: {failure}"))?;
    match answer.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(answer),
        code => Err(format!(
            "{kind} {name} asked of {server}: the server answered {code}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_is_after_the_last_at_sign() {
        assert_eq!(
            // IDNA's mapping also lowers the case: DNS names compare without it anyway.
            parse_domain("alice@Example.COM").unwrap().to_ascii(),
            "example.com."
        );
        assert_eq!(
            parse_domain("\"a@b\"@mail.example").unwrap().to_ascii(),
            "mail.example."
        );
        assert!(parse_domain("example.com").is_err());
        assert!(parse_domain("alice@").is_err());
    }

    #[test]
    fn a_line_is_preference_name_then_addresses() {
        let host = MailHost {
            preference: 10,
            name: Name::from_ascii("mx1.example.com.").unwrap(),
            addresses: vec![
                "192.0.2.25".parse().unwrap(),
                "2001:db8::25".parse().unwrap(),
            ],
        };
        assert_eq!(line(&host), "10 mx1.example.com. 192.0.2.25 2001:db8::25\n");
        let bare = MailHost {
            addresses: Vec::new(),
            ..host
        };
        assert_eq!(line(&bare), "10 mx1.example.com.\n");
    }
}
