//! Part `permissions`: what the permission preflight costs. The same
//! provisioning file against clients whose access is learned each way
//! (roles listed by `tokens/me`, the client's own record,
//! `divisionspermitted` a permission at a time, nothing readable): the
//! discovery's requests, once per run, against the run's total.

use super::fake::access::AccessModel;
use super::fake::{Fake, FakeConfig};
use super::{provision_file, run_against};
use genimport::Status;

pub fn permissions(dir: &tempfile::TempDir, users: usize) {
    println!("\npermissions: the permission preflight's requests, {users} new users with a typical provisioning row");
    println!(
        "{:<52} {:>10} {:>9} {:>9} {:>8}",
        "client's access learned from", "discovery", "requests", "per user", "failed"
    );
    let no_client_view = || {
        AccessModel::with_roles(&[(
            "No oauth:client:view",
            &["directory:*:*", "routing:*:*", "authorization:*:*"],
            &["*"],
        )])
    };
    let scenarios: Vec<(&str, AccessModel)> = vec![
        ("tokens/me lists the roles", AccessModel::default()),
        (
            "the client's own record (oauth:client:view)",
            AccessModel {
                token_lists_roles: false,
                ..AccessModel::default()
            },
        ),
        ("divisionspermitted, a permission at a time", {
            let mut access = no_client_view();
            access.token_lists_roles = false;
            access
        }),
        ("nothing readable (runs as before)", {
            let mut access = no_client_view();
            access.token_lists_roles = false;
            access.permitted_route = false;
            access
        }),
    ];
    let input = provision_file(dir, users);
    for (case, access) in scenarios {
        let fake = Fake::spawn(FakeConfig::default());
        fake.state().add_user("boss@example.com", "Boss", "active");
        fake.state().access = access;
        let summary = run_against(&fake, dir, &input, &["--concurrency", "4"]);
        let st = fake.state();
        // The discovery routes (the import lists the divisions itself: the
        // file grants a role in Sales; the check adds no listing when every
        // permission is held everywhere, or when nothing is readable).
        let discovery = st.access.discovery_requests;
        println!(
            "{case:<52} {discovery:>10} {:>9} {:>9.3} {:>8}",
            st.counters.api_requests,
            discovery as f64 / users as f64,
            summary.tally.count(Status::Failed)
        );
    }
}
