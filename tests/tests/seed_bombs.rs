//! Seed 001's `Bomb` timelines (`examples::bombs`), on the paused clock:
//! bombs exploding 2, 3 and 5 s after each start, `max_restarts: 5`
//! within 5 s, under each strategy, watched for 11 s.

use std::time::Duration;

use examples::bombs::{timeline, Happening, Setup};

const OBSERVE: Duration = Duration::from_secs(11);

fn at(secs: u64, what: Happening) -> (Duration, Happening) {
    (Duration::from_secs(secs), what)
}

fn boom(id: &str) -> Happening {
    Happening::Exploded(id.to_owned())
}

#[tokio::test(start_paused = true)]
async fn one_for_one_restarts_each_bomb_alone_until_the_sixth_restart_in_five_seconds() {
    assert_eq!(
        timeline(Setup::OneForOne, OBSERVE).await,
        [
            at(2, boom("bomb1")),
            at(3, boom("bomb2")),
            at(4, boom("bomb1")),
            at(5, boom("bomb3")),
            // Bomb 1 (restarted at 4 s) and Bomb 2 (restarted at 3 s)
            // explode together: the second is the sixth restart within
            // 5 s (2, 3, 4, 5, 6, 6), more than 5.
            at(6, boom("bomb1")),
            at(6, boom("bomb2")),
            at(6, Happening::GaveUp),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn one_for_all_restarts_every_bomb_so_only_bomb_1_ever_explodes() {
    assert_eq!(
        timeline(Setup::OneForAll, OBSERVE).await,
        [2, 4, 6, 8, 10].map(|s| at(s, boom("bomb1")))
    );
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_in_start_order_looks_like_one_for_all() {
    assert_eq!(
        timeline(Setup::RestForOne, OBSERVE).await,
        [2, 4, 6, 8, 10].map(|s| at(s, boom("bomb1")))
    );
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_reordered_never_explodes_bomb_2_and_survives() {
    assert_eq!(
        timeline(Setup::RestForOneReordered, OBSERVE).await,
        [
            at(2, boom("bomb1")),
            at(4, boom("bomb1")),
            at(5, boom("bomb3")),
            at(7, boom("bomb1")),
            at(9, boom("bomb1")),
            at(10, boom("bomb3")),
        ]
    );
}
