//! The references' integration tests, one binary (one link instead of six).

mod cli;
mod common;
mod dns;
mod ftp;
mod mail_archive;
mod mail_read;
mod mysql;
mod pinger;
mod proxy;
mod smtp;
mod ssh;
mod upper;
mod web;
mod xmlrpc;
