//! The SSH pack against clients nobody here wrote: paramiko and OpenSSH's `ssh`.
