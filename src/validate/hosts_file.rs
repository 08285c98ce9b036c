//! `hosts_entry(address, name)`: valid addresses and names, one address per name.
//!
//! (`hosts.rs` is about hosts *named in* URLs and targets; this is the machine's hosts file.)

use std::net::IpAddr;

use super::Check;
use crate::diagnostic::Diagnostic;
use crate::model::{HostEntry, host_name_problem};

pub fn check(check: &mut Check) {
    let hosts = &check.stack.hosts;
    for (name, entries) in hosts {
        let Some(first) = entries.first() else {
            continue;
        };
        // An address where the name goes, with a name where the address goes, is one
        // mistake: `bad_address` reports it.
        let swapped = name.parse::<IpAddr>().is_ok() && first.address.parse::<IpAddr>().is_err();
        if let Some(problem) = host_name_problem(name).filter(|_| !swapped) {
            let d = check.error(
                &first.span,
                name,
                format!("host name `{name}` in `hosts_entry` is not valid: {problem}"),
            );
            *d = via(d.clone(), first).help("a host name is lower-case letters, digits and `-`, in parts joined by dots, such as `scaibu.grafana`");
        }
        // The first valid address is the one the others must agree with.
        let mut agreed: Option<(IpAddr, &HostEntry)> = None;
        for entry in entries {
            let ip = match entry.address.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => {
                    bad_address(check, name, entry);
                    continue;
                }
            };
            match agreed {
                None => agreed = Some((ip, entry)),
                Some((other, at)) if other != ip => {
                    let first_at = check
                        .sources
                        .find_in_call(&at.span, &at.address)
                        .unwrap_or_else(|| at.span.clone());
                    let d = check.error(
                        &entry.span,
                        &entry.address,
                        format!("host name `{name}` is given two addresses: `{other}` and `{ip}`"),
                    );
                    *d = via(d.clone(), entry)
                        .related(&first_at, format!("`{other}` here"))
                        .help("a name resolves to one address: remove one of the `hosts_entry` calls or give it another name");
                }
                Some(_) => {}
            }
        }
    }
}

fn bad_address(check: &mut Check, name: &str, entry: &HostEntry) {
    let address = &entry.address;
    if name.parse::<IpAddr>().is_ok() {
        let d = check.error(&entry.span, address, format!("the arguments of `hosts_entry` are swapped: `{name}` is the address, `{address}` the name"));
        *d = via(d.clone(), entry).label("the name").help(format!(
            "the address comes first: `hosts_entry(\"{name}\", \"{address}\")`"
        ));
        return;
    }
    let d = check.error(
        &entry.span,
        address,
        format!("address `{address}` of host name `{name}` is not an IP address"),
    );
    *d = via(d.clone(), entry)
        .label("not an IPv4 or IPv6 address")
        .help("write an address such as `127.0.1.1` or `::1`");
}

/// Notes the library line when a library function made the call for the user.
fn via(d: Diagnostic, entry: &HostEntry) -> Diagnostic {
    match &entry.via {
        Some(v) => d.note(format!("declared by the library at {v}")),
        None => d,
    }
}
