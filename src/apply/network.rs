//! The stack's Docker network: checked before a switch touches anything, created when it
//! is missing, and removed by `down` only when obsbuild created it for this stack and no
//! other container uses it. A network made by hand, or shared through `external: true`,
//! outlives the stack.

use std::collections::BTreeMap;

use super::{Report, SwitchError};
use crate::model::Subnet;
use crate::deployment::Deployment;
use crate::runtime::{NetworkInfo, NetworkSpec, Runtime, RuntimeError, label};

/// What keeps the switch from using or creating the network; empty means go.
pub fn problems(a: &Deployment, networks: &[NetworkInfo]) -> Vec<String> {
    let want = a.network.subnet.as_deref().and_then(|s| Subnet::parse(s).ok());
    match networks.iter().find(|n| n.name == a.network.name) {
        Some(existing) => existing_problems(a, existing, want),
        // Docker refuses to create a network whose subnet overlaps another's.
        None => want.map(|want| overlaps(a, networks, want)).unwrap_or_default(),
    }
}

fn subnets(n: &NetworkInfo) -> Vec<Subnet> {
    n.subnets.iter().filter_map(|s| Subnet::parse(s).ok()).collect()
}

fn existing_problems(a: &Deployment, n: &NetworkInfo, want: Option<Subnet>) -> Vec<String> {
    let mut out = Vec::new();
    let owner = n.created_for();
    if let Some(other) = owner.filter(|o| *o != a.stack && !a.network.external) {
        out.push(format!(
            "network `{}` was created by obsbuild for the stack `{other}`; give `{}` its own network (another name in its `network(...)` call), or declare the network `external: true` in both stacks to share it",
            n.name, a.stack
        ));
    }
    let Some(want) = want else { return out };
    let have = subnets(n);
    if have.contains(&want) {
        return out;
    }
    let have_text = match have.as_slice() {
        [] => "no IPv4 subnet".to_owned(),
        list => format!("subnet {}", list.iter().map(Subnet::to_string).collect::<Vec<_>>().join(", ")),
    };
    let fix = if owner == Some(a.stack.as_str()) {
        format!(
            "obsbuild created it for `{0}`: `obsbuild down {0}` removes it (with the stack's containers) and the next switch creates it with {want}",
            a.stack
        )
    } else {
        let by = match owner {
            Some(other) => format!("obsbuild created it for the stack `{other}`"),
            None => "obsbuild did not create it".to_owned(),
        };
        let keep = match have.as_slice() {
            [one] => format!(
                "write `subnet: \"{one}\"` in the stack's `network(...)` call (and static IPs inside it) to use it as it is, or "
            ),
            _ => String::new(),
        };
        format!(
            "{by}; {keep}remove it (`docker network rm {}`, once no container uses it) so that the switch creates it with {want}",
            n.name
        )
    };
    out.push(format!("network `{}` exists with {have_text}, but the stack wants {want}; {fix}", n.name));
    out
}

fn overlaps(a: &Deployment, networks: &[NetworkInfo], want: Subnet) -> Vec<String> {
    let mut out = Vec::new();
    for n in networks {
        for other in subnets(n).into_iter().filter(|o| o.overlaps(&want)) {
            out.push(format!(
                "subnet {want} of network `{}` clashes with subnet {other} of the existing network `{}`, so Docker cannot create it; choose a subnet no other network uses in the stack's `network(...)` call, or remove network `{}` if nothing needs it",
                a.network.name, n.name, n.name
            ));
        }
    }
    out
}

/// Creates the network when it is missing, labelled as obsbuild's, for this stack.
pub async fn ensure<R: Runtime>(rt: &R, a: &Deployment, report: &mut dyn Report) -> Result<(), SwitchError> {
    if rt.networks().await?.iter().any(|n| n.name == a.network.name) {
        return Ok(());
    }
    let labels =
        BTreeMap::from([(label::STACK.to_owned(), a.stack.clone()), (label::CREATED_BY.to_owned(), label::CREATOR.to_owned())]);
    let spec = NetworkSpec { name: a.network.name.clone(), subnet: a.network.subnet.clone(), labels };
    match rt.create_network(&spec).await {
        Ok(()) => {
            let subnet = a.network.subnet.as_deref().map(|s| format!(" with subnet {s}")).unwrap_or_default();
            report.note(&format!("created network `{}`{subnet}", a.network.name));
            Ok(())
        }
        // Another switch (of a stack sharing the network) made it since preflight: use
        // it if it is what this stack wants.
        Err(RuntimeError::Conflict { .. }) => {
            let problems = problems(a, &rt.networks().await?);
            if problems.is_empty() { Ok(()) } else { Err(SwitchError::Preflight(problems)) }
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes what `down` may of the stack's network (`network`, from its current generation)
/// and of networks obsbuild created for it, saying why it leaves any.
pub async fn remove<R: Runtime>(rt: &R, stack: &str, network: Option<&str>, report: &mut dyn Report) -> Result<(), SwitchError> {
    for n in rt.networks().await? {
        let created_here = n.created_for() == Some(stack);
        if !created_here && network != Some(n.name.as_str()) {
            continue;
        }
        if !created_here {
            let why = match n.created_for() {
                Some(other) => format!("obsbuild created it for the stack `{other}`"),
                None => format!(
                    "obsbuild did not create it (it has no `{}` label); `docker network rm {}` removes it when nothing needs it",
                    label::CREATED_BY,
                    n.name
                ),
            };
            report.note(&format!("network `{}` left in place: {why}", n.name));
            continue;
        }
        let users = rt.network_users(&n.name).await?;
        if !users.is_empty() {
            report.note(&format!(
                "network `{}` left in place: containers outside `{stack}` use it ({}); run `obsbuild down {stack}` again once they are gone",
                n.name,
                users.join(", ")
            ));
            continue;
        }
        match rt.remove_network(&n.name).await {
            Ok(()) | Err(RuntimeError::NotFound { .. }) => report.note(&format!("removed network {}", n.name)),
            // A container joined since the check (Docker refuses with "active endpoints"):
            // the rest of `down` still has to happen.
            Err(e @ RuntimeError::Call { .. }) => report.note(&format!("network `{}` left in place: {e}", n.name)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation(external: bool) -> Deployment {
        Deployment {
            schema: crate::deployment::SCHEMA,
            stack: "s".into(),
            network: crate::deployment::Network { name: "obs".into(), subnet: Some("172.29.7.0/24".into()), external },
            ..Deployment::default()
        }
    }

    fn network(name: &str, subnet: &str, labels: &[(&str, &str)]) -> NetworkInfo {
        NetworkInfo {
            name: name.into(),
            subnets: vec![subnet.into()],
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            containers: BTreeMap::new(),
        }
    }

    const OURS: [(&str, &str); 2] = [(label::STACK, "s"), (label::CREATED_BY, label::CREATOR)];
    const THEIRS: [(&str, &str); 2] = [(label::STACK, "t"), (label::CREATED_BY, label::CREATOR)];

    #[test]
    fn an_existing_network_with_the_subnet_is_used_whoever_made_it() {
        for labels in [&OURS[..], &THEIRS[..], &[]] {
            assert!(problems(&activation(true), &[network("obs", "172.29.7.0/24", labels)]).is_empty(), "{labels:?}");
        }
        assert!(problems(&activation(false), &[network("obs", "172.29.7.0/24", &[])]).is_empty());
    }

    #[test]
    fn another_subnet_names_both_and_the_fix() {
        let hand_made = problems(&activation(true), &[network("obs", "172.29.8.0/24", &[])]);
        assert_eq!(hand_made.len(), 1, "{hand_made:?}");
        let p = &hand_made[0];
        for part in
            ["`obs`", "172.29.8.0/24", "172.29.7.0/24", "did not create it", "subnet: \"172.29.8.0/24\"", "docker network rm obs"]
        {
            assert!(p.contains(part), "{part} missing in {p}");
        }
        let ours = problems(&activation(true), &[network("obs", "172.29.8.0/24", &OURS)]);
        assert!(ours[0].contains("obsbuild down s"), "{ours:?}");
    }

    #[test]
    fn a_clashing_subnet_is_refused_only_when_the_network_must_be_created() {
        let others = [network("other", "172.29.0.0/16", &[]), network("far", "10.9.0.0/24", &[])];
        let p = problems(&activation(true), &others);
        assert_eq!(p.len(), 1, "{p:?}");
        for part in ["172.29.7.0/24", "`obs`", "172.29.0.0/16", "`other`", "choose a subnet"] {
            assert!(p[0].contains(part), "{part} missing in {}", p[0]);
        }
        let mut with_ours = others.to_vec();
        with_ours.push(network("obs", "172.29.7.0/24", &OURS));
        assert!(problems(&activation(true), &with_ours).is_empty());
    }

    #[test]
    fn a_private_network_of_another_stack_is_not_taken_over() {
        let p = problems(&activation(false), &[network("obs", "172.29.7.0/24", &THEIRS)]);
        assert!(p.len() == 1 && p[0].contains("stack `t`") && p[0].contains("external: true"), "{p:?}");
        assert!(problems(&activation(true), &[network("obs", "172.29.7.0/24", &THEIRS)]).is_empty());
    }

    #[test]
    fn only_both_labels_say_obsbuild_made_it() {
        assert_eq!(network("n", "10.0.0.0/24", &OURS).created_for(), Some("s"));
        assert_eq!(network("n", "10.0.0.0/24", &[(label::STACK, "s")]).created_for(), None);
        assert_eq!(network("n", "10.0.0.0/24", &[]).created_for(), None);
    }
}
