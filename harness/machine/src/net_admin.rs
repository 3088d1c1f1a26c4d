//! `CAP_NET_ADMIN` passed on to the network tools the harness runs itself (`ip`, to add a
//! scenario's interfaces).
//!
//! Run by root, the harness's children hold every capability anyway. Run by an ordinary
//! user, the harness first enters a user namespace of its own, where it holds the
//! capabilities over the network namespaces it makes, but its user id there is not 0: the
//! kernel clears a program's capabilities when it executes one. An *ambient* capability
//! survives that exec, so the tool gets `CAP_NET_ADMIN` over the scenario's namespace and
//! nothing else. (The programs under test never get it: they start from `sandbox-init`,
//! which clears the ambient set first.)

use std::os::unix::process::CommandExt;
use std::process::Command;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`, twice for version 3's 64 capabilities.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const VERSION_3: u32 = 0x2008_0522;

/// `CAP_NET_ADMIN` in `linux/capability.h` (the libc crate does not name it).
const CAP_NET_ADMIN: u32 = 12;

/// Makes `command` keep `CAP_NET_ADMIN` across its exec, where the harness holds it.
pub fn pass_on(command: &mut Command) {
    // SAFETY: the closure makes only the capget, capset and prctl system calls, which are
    // async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(|| {
            raise_ambient_net_admin();
            Ok(())
        });
    }
}

/// Adds `CAP_NET_ADMIN` to the inheritable and ambient sets when it is permitted; does
/// nothing otherwise (root's children have it without this).
fn raise_ambient_net_admin() {
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    let bit = 1u32 << CAP_NET_ADMIN;
    // SAFETY: the header and data live across the calls, in the layout the kernel uses.
    unsafe {
        if libc::syscall(
            libc::SYS_capget,
            &header as *const Header,
            data.as_mut_ptr(),
        ) != 0
            || data[0].permitted & bit == 0
        {
            return;
        }
        data[0].inheritable |= bit;
        if libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr()) != 0 {
            return;
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE,
            libc::c_ulong::from(CAP_NET_ADMIN),
            0,
            0,
        );
    }
}
