//! What Genesys does to a leaver, for the undo tests (opt in with
//! `FakeConfig::leavers_lose_roles`): a deactivated or deleted user loses
//! every role granted to it (the default role too; a group's grants come
//! back with the group), and a restored user lands in the home division
//! (https://help.mypurecloud.com/?p=245465 and
//! https://help.genesys.cloud/faqs/category/user-management/).

use super::{State, HOME_DIVISION};

/// Called after a user's state changed from `before`.
pub fn state_changed(st: &mut State, id: &str, before: &str) {
    if !st.config.leavers_lose_roles {
        return;
    }
    let Some(now) = st.user_by_id(id).map(|u| u.state.clone()) else {
        return;
    };
    match (before, now.as_str()) {
        ("active", "inactive" | "deleted") | ("inactive", "deleted") => {
            st.grants.remove(id);
            super::movers::refresh_roles(st, id);
        }
        ("deleted", _) => {
            if let Some(user) = st.users.iter_mut().find(|u| u.id == id) {
                user.division_id = HOME_DIVISION.into();
            }
        }
        _ => {}
    }
}
