//! Why this exists: one table of what each kind of write needs, from the
//! API description's `x-inin-requires-permissions` (all of type ANY), and
//! which of them a row's plan uses, in which division.

use crate::access::model::{Need, Place};
use crate::plan::{Change, Plan, Steps};
use crate::users::Field;

pub const USER_ADD: Need = Need {
    what: "create users",
    any_of: &["directory:user:add"],
};
pub const USER_EDIT: Need = Need {
    what: "edit users",
    any_of: &[
        "directory:user:edit",
        "directory:organization:admin",
        "admin",
    ],
};
/// Help ("Move objects from one division to another"): Directory > User >
/// Edit in the divisions moved from and to.
pub const USER_MOVE: Need = Need {
    what: "move users between divisions",
    any_of: &["directory:user:edit"],
};
pub const USER_DELETE: Need = Need {
    what: "delete users",
    any_of: &[
        "directory:user:delete",
        "directory:organization:admin",
        "admin",
    ],
};
pub const INVITE: Need = Need {
    what: "send invitations",
    any_of: &[
        "directory:user:setPassword",
        "directory:organization:admin",
        "admin",
    ],
};
pub const GRANT_ADD: Need = Need {
    what: "grant roles",
    any_of: &["authorization:grant:add"],
};
pub const GRANT_DELETE: Need = Need {
    what: "remove role grants",
    any_of: &["authorization:grant:delete"],
};
pub const SKILL_ASSIGN: Need = Need {
    what: "assign skills",
    any_of: &["routing:skill:assign"],
};
pub const LANGUAGE_ASSIGN: Need = Need {
    what: "assign languages",
    any_of: &["routing:skill:assign", "routing:language:assign"],
};
pub const QUEUE_MEMBERS: Need = Need {
    what: "add and remove queue members",
    any_of: &["routing:queue:edit", "routing:queueMember:manage"],
};
pub const QUEUE_ADD: Need = Need {
    what: "create queues",
    any_of: &["routing:queue:add"],
};
pub const QUEUE_EDIT: Need = Need {
    what: "edit queues",
    any_of: &["routing:queue:edit"],
};
pub const USER_SEARCH: Need = Need {
    what: "find existing users (read)",
    any_of: &["directory:user:view"],
};
/// WebRTC phones: create, delete, and the base settings and phones read
/// for them (phones are not division objects).
pub const PHONES: Need = Need {
    what: "create and delete WebRTC phones",
    any_of: &["telephony:plugin:all"],
};
pub const DEFAULT_STATION: Need = Need {
    what: "set and clear users' default stations",
    any_of: &["telephony:plugin:all", "telephony:phone:assign"],
};

/// Every kind of write genimport may send (and its one search).
pub const ALL: &[Need] = &[
    USER_SEARCH,
    USER_ADD,
    USER_EDIT,
    USER_MOVE,
    USER_DELETE,
    INVITE,
    GRANT_ADD,
    GRANT_DELETE,
    SKILL_ASSIGN,
    LANGUAGE_ASSIGN,
    QUEUE_MEMBERS,
    QUEUE_ADD,
    QUEUE_EDIT,
    PHONES,
    DEFAULT_STATION,
];

/// Every permission string of `needs`, once.
pub fn permissions(needs: &[Need]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = needs
        .iter()
        .flat_map(|n| n.any_of.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// What a row's writes are placed in: its user's division (the home
/// division for a new user without one), and each queue's division.
pub struct Places<'a> {
    pub home: Option<&'a str>,
    /// Whether role grants are checked per division (`None`: not told).
    pub grants_division_aware: Option<bool>,
    pub queue_division: &'a dyn Fn(&str) -> Option<String>,
}

impl Places<'_> {
    fn division(&self, id: Option<&str>) -> Place {
        match id.or(self.home) {
            Some(id) => Place::Division(id.to_string()),
            None => Place::UnknownDivision,
        }
    }

    fn queue(&self, id: &str) -> Place {
        match (self.queue_division)(id) {
            Some(division) => Place::Division(division),
            None => Place::UnknownDivision,
        }
    }
}

/// What a row's plan needs, and where.
pub fn plan_needs(plan: &Plan, places: &Places) -> Vec<(Need, Place)> {
    let mut needs = Vec::new();
    match plan {
        Plan::Report(_) => {}
        Plan::Create {
            user,
            division_id,
            provision,
        } => {
            let place = places.division(division_id.as_deref());
            needs.push((USER_ADD, place.clone()));
            if crate::users::follow_up_fields(user).next().is_some() {
                needs.push((USER_EDIT, place.clone()));
            }
            steps_needs(provision, &place, places, &mut needs);
        }
        Plan::Update {
            existing,
            restore,
            division,
            provision,
            preview,
            ..
        } => {
            let place = places.division(existing.division_id());
            let edits = *restore
                || preview
                    .iter()
                    .any(|c| matches!(c, Change::Field(f) if *f != Field::Division));
            if edits {
                needs.push((USER_EDIT, place.clone()));
            }
            if let Some(target) = division
                .as_ref()
                .filter(|d| existing.division_id() != Some(&d.id))
            {
                needs.push((USER_MOVE, place.clone()));
                needs.push((USER_MOVE, Place::Division(target.id.clone())));
            }
            steps_needs(provision, &place, places, &mut needs);
        }
        Plan::CreateQueue { body, .. } => {
            needs.push((QUEUE_ADD, places.division(body["division"]["id"].as_str())));
        }
        Plan::UpdateQueue { body, division, .. } => {
            needs.push((QUEUE_EDIT, places.division(body["division"]["id"].as_str())));
            if let Some(target) = division {
                needs.push((QUEUE_EDIT, Place::Division(target.id.clone())));
            }
        }
    }
    needs.sort();
    needs.dedup();
    needs
}

/// What a user's follow-up steps and removals need; `user` is where the user is.
fn steps_needs(steps: &Steps, user: &Place, places: &Places, needs: &mut Vec<(Need, Place)>) {
    if steps.manager.is_some() || steps.location.is_some() {
        needs.push((USER_EDIT, user.clone()));
    }
    let grant_place = |division: &str| match places.grants_division_aware {
        Some(true) => Place::Division(division.to_string()),
        _ => Place::Anywhere,
    };
    for role in &steps.roles {
        needs.push((GRANT_ADD, grant_place(&role.division_id)));
    }
    if !steps.skills.is_empty() {
        needs.push((SKILL_ASSIGN, Place::Anywhere));
    }
    if !steps.languages.is_empty() {
        needs.push((LANGUAGE_ASSIGN, Place::Anywhere));
    }
    for queue in &steps.queues {
        needs.push((QUEUE_MEMBERS, places.queue(&queue.id)));
    }
    if steps.invite {
        needs.push((INVITE, user.clone()));
    }
    let removals = &steps.removals;
    for role in &removals.roles {
        needs.push((GRANT_DELETE, grant_place(&role.division_id)));
    }
    if !removals.skills.is_empty() || removals.skills_replace.is_some() {
        needs.push((SKILL_ASSIGN, Place::Anywhere));
    }
    if !removals.languages.is_empty() {
        needs.push((LANGUAGE_ASSIGN, Place::Anywhere));
    }
    for queue in &removals.queues {
        needs.push((QUEUE_MEMBERS, places.queue(&queue.id)));
    }
    if removals.delete_user {
        needs.push((USER_DELETE, user.clone()));
    }
    if let Some(phone) = steps.phone.as_ref().filter(|p| !p.is_empty()) {
        if phone.create.is_some() || !phone.remove.is_empty() {
            needs.push((PHONES, Place::Anywhere));
        }
        if phone.add.is_some() || phone.remove.iter().any(|p| p.default_station) {
            needs.push((DEFAULT_STATION, Place::Anywhere));
        }
    }
    // Group members: the API description lists no permission (help: Directory
    // > Group > Edit, or owning the group), so they are not checked.
}
