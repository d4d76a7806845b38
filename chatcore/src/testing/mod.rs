//! Test support for chatcore, its backends and the apps that embed it:
//!
//! - [`World`]: a started in-memory chat with a hand-driven clock, to write scenarios against;
//! - [`FaultyStore`]: a store that fails the Nth call, a share of calls, or every call while
//!   "disconnected", after an optional delay;
//! - [`SimNetwork`] and [`SimClient`]: a network that drops, duplicates, reorders and breaks
//!   connections, and a client that keeps the delivery contract over it;
//! - the storage conformance suite every backend runs ([`store_conformance_tests!`](crate::store_conformance_tests));
//! - [`GatedStore`], which holds a call at a gate for tests of races, and [`FakeAssistant`];
//! - [`harness`]: a test harness that reports tests needing an absent server as ignored;
//! - pictures the image checks must refuse ([`animated_gif`]).
//!
//! Every [`Store`] implementation runs the same suite with one macro call:
//!
//! ```text
//! async fn make_store() -> (std::sync::Arc<dyn chatcore::Store>, ()) {
//!     (std::sync::Arc::new(chatcore::MemoryStore::new()), ())
//! }
//! chatcore::store_conformance_tests!(make_store);
//! ```
//!
//! `make_store` (a function in the calling module) returns a fresh, empty store plus a guard that lives as long as the test (drop
//! it to delete a test database). It may instead return `Option<(store, guard)>`: `None` skips
//! the case (e.g. no database server outside CI; say why on stderr). The macro expands to one `#[tokio::test]` per case, so the
//! calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.

mod assistant;
pub mod conformance;
mod faulty;
mod gated;
pub mod harness;
mod nodes;
mod pictures;
mod rng;
mod sim;
mod world;

pub use assistant::FakeAssistant;
pub use faulty::FaultyStore;
pub use gated::{GatedStore, Held};
pub use nodes::{send_text, seqs_through, start_node};
pub use pictures::animated_gif;
pub use sim::{Faults, RETRY_AFTER, SimClient, SimNetwork};
pub use world::{PASSWORD, World, WorldBuilder};

use std::sync::Arc;

use crate::store::Store;

/// What a `make_store` function may return: a store and its guard, or `None` to skip the case.
pub trait StoreFixture {
    /// Kept alive for the test's duration, then dropped.
    type Guard;
    /// The store and guard, or `None` when the case must be skipped.
    fn into_fixture(self) -> Option<(Arc<dyn Store>, Self::Guard)>;
}

impl<G> StoreFixture for (Arc<dyn Store>, G) {
    type Guard = G;
    fn into_fixture(self) -> Option<(Arc<dyn Store>, G)> {
        Some(self)
    }
}

impl<G> StoreFixture for Option<(Arc<dyn Store>, G)> {
    type Guard = G;
    fn into_fixture(self) -> Option<(Arc<dyn Store>, G)> {
        self
    }
}

/// Expands to one test per conformance case, each on a fresh store from `$make`.
///
/// `store_conformance_tests!(make_store)` defines a `#[tokio::test]` per case, in a module
/// `store_conformance`. `store_conformance_tests!(make_store, harness)` is instead an
/// expression: the cases as a list for [`harness::run`], for stores on a server the machine may
/// not have (the cases are then reported ignored, not passed; `make_store` returning `None`
/// fails the case, since the harness found the server there).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:ident $(, $form:ident)?) => {
        $crate::store_conformance_tests!(@cases [$($form)?] $make;
            users_round_trip,
            usernames_are_unique,
            external_ids_are_unique,
            display_names_can_change,
            profile_changes,
            avatars_replace_each_other,
            concurrent_avatar_changes_replace_each_once,
            user_search_and_listing,
            search_scopes_follow_shared_rooms,
            password_and_admin_flags,
            guest_upgrade,
            concurrent_guest_upgrades_have_one_winner,
            guest_expiry,
            sessions,
            expired_sessions_are_swept,
            rooms_and_members,
            room_heads_page_by_id,
            member_cap,
            last_admin_stays,
            removing_the_last_admin_promotes_an_heir,
            direct_rooms_are_unique,
            read_markers,
            room_settings,
            concurrent_room_settings_keep_both_fields,
            append_assigns_gapless_seqs,
            append_is_idempotent_per_sender,
            append_requires_membership,
            concurrent_appends_are_gapless,
            concurrent_retries_store_once,
            retry_a_day_later_returns_the_first,
            random_client_ids_are_each_stored_once,
            batch_append,
            history_pages,
            edit_and_delete,
            custom_kinds_round_trip,
            mentions_round_trip,
            reactions,
            reactions_stay_under_the_cap_when_concurrent,
            search_finds_text_in_the_given_rooms_newest_first,
            search_takes_operators_literally,
            search_follows_edits_and_deletes,
            invite_links,
            invite_cap_counts_usable_links,
            invite_redemption,
            concurrent_redemptions_share_the_last_use,
            unread_counts,
            room_list_matches_single_room_reads,
            media_metadata,
            media_release,
            unattached_media_and_quota_use,
            upload_quota,
            text_round_trips_exactly,
            missing_rows,
        );
    };
    (@cases [harness] $make:ident; $($case:ident),* $(,)?) => {
        ::std::vec![$(
            (
                ::std::concat!("store_conformance::", ::std::stringify!($case)),
                (|| ::std::boxed::Box::pin(async {
                    let (store, guard) = $crate::testing::StoreFixture::into_fixture($make().await)
                        .expect("the store under test could not be made");
                    $crate::testing::conformance::$case(store).await;
                    drop(guard);
                }) as $crate::testing::harness::TestFuture)
                    as fn() -> $crate::testing::harness::TestFuture,
            )
        ),*]
    };
    (@cases [] $make:ident; $($case:ident),* $(,)?) => {
        mod store_conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some((store, guard)) = $crate::testing::StoreFixture::into_fixture(super::$make().await)
                    else {
                        return;
                    };
                    $crate::testing::conformance::$case(store).await;
                    drop(guard);
                }
            )*
        }
    };
}
