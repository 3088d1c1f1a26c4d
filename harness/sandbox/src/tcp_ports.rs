//! The TCP ports a program may bind and connect to where its scenario shares the
//! machine's loopback with other scenarios (a platform's container: no network namespace
//! per scenario).
//!
//! Where a scenario has a network of its own nobody else is in it, and nothing here
//! applies. On a shared loopback the harness reserves a block of ports for each scenario
//! before its first program starts (the harness's `world::real::ports`), hands its
//! programs and peers their ports from that block, and `sandbox-init` walls each program
//! to the block and the ports its submission hard-codes (Landlock's TCP rules, ABI 4):
//! the grader's own services and every other scenario's programs and peers are out of its
//! reach, and it cannot hoard the ports the harness hands to other scenarios.

use std::ops::RangeInclusive;

/// Ports and ranges of ports, for `sandbox-init --tcp-ports`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpPorts {
    ranges: Vec<RangeInclusive<u16>>,
    /// Whether the program may use UDP (its task's or its scenario's programs do: a
    /// pinger, a name lookup): where no warden walls UDP to these ports, a program that
    /// may not gets no UDP socket at all (`sandbox-init --tcp-only`).
    datagrams: bool,
    /// Whether the program may make a unix socket of its own (`socket(AF_UNIX)`; a
    /// `socketpair` it always may): no lab program does, a browser does. Where no warden
    /// checks whose named socket it connects to, one that may not gets none
    /// (`sandbox-init --no-unix-sockets`).
    unix_sockets: bool,
    /// Whether the program may make no internet socket at all (`sandbox-init
    /// --no-internet`): a server the harness runs that listens on a unix socket only
    /// (the kit's MariaDB, whose replication would otherwise connect anywhere), walled so
    /// whether or not Landlock's TCP rules are here.
    no_internet: bool,
}

impl TcpPorts {
    /// The ports `range` (a scenario's block).
    pub fn block(range: RangeInclusive<u16>) -> TcpPorts {
        TcpPorts {
            ranges: vec![range],
            datagrams: false,
            unix_sockets: false,
            no_internet: false,
        }
    }

    /// No port, no internet socket at all, unix sockets of its own: a server that
    /// listens on a unix socket only.
    pub fn unix_only() -> TcpPorts {
        TcpPorts {
            unix_sockets: true,
            no_internet: true,
            ..TcpPorts::default()
        }
    }

    /// Whether the program may make no internet socket at all.
    pub fn no_internet(&self) -> bool {
        self.no_internet
    }

    /// The same, for a program that may use UDP.
    pub fn with_datagrams(self) -> TcpPorts {
        TcpPorts {
            datagrams: true,
            ..self
        }
    }

    /// The same, for a program that may make unix sockets of its own (a browser).
    pub fn with_unix_sockets(self) -> TcpPorts {
        TcpPorts {
            unix_sockets: true,
            ..self
        }
    }

    /// Whether the program may make unix sockets of its own.
    pub fn unix_sockets(&self) -> bool {
        self.unix_sockets
    }

    /// Whether the program may use UDP.
    pub fn datagrams(&self) -> bool {
        self.datagrams
    }

    /// Adds one port (one the submission hard-codes); port 0 is no port and is skipped.
    pub fn with(mut self, port: u16) -> TcpPorts {
        if port != 0 && !self.contains(port) {
            self.ranges.push(port..=port);
        }
        self
    }

    /// Whether `port` is one of them.
    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|range| range.contains(&port))
    }

    /// `sandbox-init`'s `--tcp-ports` value: `20032-20095,12000`.
    pub fn argument(&self) -> String {
        self.ranges
            .iter()
            .map(|range| match (range.start(), range.end()) {
                (first, last) if first == last => first.to_string(),
                (first, last) => format!("{first}-{last}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_and_hard_coded_ports_make_one_argument() {
        let ports = TcpPorts::block(20032..=20095)
            .with(12000)
            .with(20040)
            .with(0);
        assert_eq!(ports.argument(), "20032-20095,12000");
        assert!(ports.contains(12000) && ports.contains(20095) && !ports.contains(20096));
    }
}
