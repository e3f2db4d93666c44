//! Why this exists: which rows' users exist, for the fewest requests.
//! Search finds 50 keys a request (⌈R/50⌉ for R rows); a listing of the
//! whole org finds every key at 500 users a page (⌈U/500⌉ for U users), so
//! it wins once a file names more than about a tenth of the org. One cheap
//! request (the org's user count) tells which; the choice is logged. A
//! listing does not show deleted users: where a restore needs them
//! (`--restore-deleted`), or where the listing could not read everyone,
//! the keys it did not find are searched after it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::genesys::directory::UserListing;
use crate::genesys::users::{Search, SearchKey, User, EXPAND, SEARCH_BATCH};
use crate::genesys::{CallError, Client};

/// Below this many searches a listing (a count, then at least a page of
/// each state) cannot cost less: no count is asked for.
const SEARCHES_WORTH_A_COUNT: u64 = 3;

/// The users a lookup found, each boxed as its plan will hold it (a
/// listing of 100,000 users is then never held twice, in a list and in the
/// plans), and the keys search refused outright.
#[derive(Default)]
#[allow(clippy::vec_box)] // boxed on purpose: each box moves into its plan
pub(super) struct Found {
    pub users: Vec<Box<User>>,
    pub refused: Vec<(String, CallError)>,
}

impl From<Search> for Found {
    fn from(search: Search) -> Found {
        Found {
            users: search.found.into_iter().map(Box::new).collect(),
            refused: search.refused,
        }
    }
}

/// How a lookup goes.
pub(super) struct Lookup {
    pub key: SearchKey,
    pub concurrency: usize,
    /// Deleted users must be found (they are restored).
    pub deleted_matter: bool,
}

/// The users holding `wanted` keys (lowercased), found the cheaper way.
pub(super) async fn existing(
    client: &Arc<Client>,
    lookup: &Lookup,
    wanted: Vec<String>,
) -> Result<Found, CallError> {
    let searches = wanted.len().div_ceil(SEARCH_BATCH) as u64;
    if searches <= SEARCHES_WORTH_A_COUNT {
        return Ok(search_all(client, lookup.key, wanted, lookup.concurrency)
            .await?
            .into());
    }
    let org_users = client.count_users().await?;
    // Each state's last page is partial: one more page than the users fill.
    let pages = org_users.div_ceil(u64::from(client.paging().user_page.max(1))) + 1;
    if pages >= searches {
        tracing::info!(
            rows = wanted.len(),
            org_users,
            searches,
            listing_pages = pages,
            "existence lookup: searching by key ({searches} searches; listing the org would take {pages} pages)"
        );
        return Ok(search_all(client, lookup.key, wanted, lookup.concurrency)
            .await?
            .into());
    }
    tracing::info!(
        rows = wanted.len(),
        org_users,
        searches,
        listing_pages = pages,
        "existence lookup: listing the org's users ({pages} pages instead of {searches} searches)"
    );
    let (mut found, unread) = list(client, lookup, &wanted).await?;
    if lookup.deleted_matter || unread > 0 {
        let seen: HashSet<String> = found
            .users
            .iter()
            .filter_map(|u| lookup.key.of(u))
            .collect();
        let missed: Vec<String> = wanted
            .into_iter()
            .filter(|v| !seen.contains(&v.to_lowercase()))
            .collect();
        tracing::info!(
            keys = missed.len(),
            unread,
            "existence lookup: searching the keys the listing did not find"
        );
        let more = Found::from(search_all(client, lookup.key, missed, lookup.concurrency).await?);
        found.users.extend(more.users);
        found.refused = more.refused;
    }
    Ok(found)
}

/// The org's active and inactive users whose key is wanted (others are
/// dropped as each page arrives); how many users could not be read.
async fn list(
    client: &Client,
    lookup: &Lookup,
    wanted: &[String],
) -> Result<(Found, u64), CallError> {
    let keys: HashSet<String> = wanted.iter().map(|v| v.to_lowercase()).collect();
    let mut found = Found::default();
    let mut unread = 0;
    for state in ["active", "inactive"] {
        let listing = UserListing {
            state,
            expand: &EXPAND,
            concurrency: lookup.concurrency,
        };
        unread += client
            .each_user(&listing, |users| {
                found.users.extend(
                    users
                        .into_iter()
                        .filter(|u| lookup.key.of(u).is_some_and(|k| keys.contains(&k)))
                        .map(Box::new),
                );
            })
            .await?;
    }
    Ok((found, unread))
}

/// Runs the searches, 50 keys each, with up to `concurrency` in flight,
/// like the writes after them: a big file's preflight then takes seconds.
pub(super) async fn search_all(
    client: &Arc<Client>,
    key: SearchKey,
    values: Vec<String>,
    concurrency: usize,
) -> Result<Search, CallError> {
    let batches: Vec<Vec<String>> = values
        .chunks(SEARCH_BATCH)
        .map(<[String]>::to_vec)
        .collect();
    let queue = Arc::new(Mutex::new(batches));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, queue) = (Arc::clone(client), Arc::clone(&queue));
        set.spawn(async move {
            let mut all = Search::default();
            loop {
                let batch = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(batch) = batch else { return Ok(all) };
                let search = client.search_users(key, &batch).await?;
                all.found.extend(search.found);
                all.refused.extend(search.refused);
            }
        });
    }
    let mut all = Search::default();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(search)) => {
                all.found.extend(search.found);
                all.refused.extend(search.refused);
            }
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(CallError::BadResponse(format!("a search task failed: {e}"))),
        }
    }
    Ok(all)
}
