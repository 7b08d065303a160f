//! The `Bomb` crash timelines of seed 001: three bombs that explode 2, 3
//! and 5 seconds after each start, `max_restarts: 5` within 5 seconds,
//! under one_for_one, one_for_all, rest_for_one, and rest_for_one with the
//! children reordered [bomb3, bomb1, bomb2] (the trees are in
//! [`examples::bombs`]). Each tree is watched for 11 seconds, or until its
//! supervisor gives up.
//!
//! What OTP does, and this prints: one_for_one ends at 6 s, when Bomb 1
//! and Bomb 2 explode together and the second is the sixth restart within
//! 5 s; one_for_all and rest_for_one only ever see Bomb 1, every 2 s;
//! reordered, Bomb 2 never explodes and the supervisor survives.
//!
//! By default it runs on a simulated clock (tokio's paused clock: time
//! jumps to the next timer when nothing else can run) and finishes at
//! once, with exact times. With `-- --real-time` it runs on the real
//! clock (about 40 seconds; times then carry the scheduling delays).
//!
//! ```text
//! cargo run -p examples --example bombs
//! ```

use std::time::Duration;

use examples::bombs::{timeline, Happening, Setup};

/// How long each tree is watched.
const OBSERVE: Duration = Duration::from_secs(11);

fn main() {
    let real_time = std::env::args().any(|a| a == "--real-time");
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    runtime.enable_time();
    if !real_time {
        runtime.start_paused(true);
    }
    let runtime = runtime.build().expect("a runtime");
    println!(
        "Bombs explode 2 s (Bomb 1), 3 s (Bomb 2) and 5 s (Bomb 3) after each start; \
         max_restarts 5 within 5 s.\nEach tree is watched for {} s ({} clock).",
        OBSERVE.as_secs(),
        if real_time { "real" } else { "simulated" }
    );
    runtime.block_on(async {
        for setup in Setup::ALL {
            println!("\n{}", setup.describe());
            let events = timeline(setup, OBSERVE).await;
            for (at, happening) in &events {
                match happening {
                    Happening::Exploded(id) => println!("  {:>6.3} s  {id} exploded", secs(*at)),
                    Happening::GaveUp => println!(
                        "  {:>6.3} s  the supervisor gives up: more than 5 restarts within 5 s",
                        secs(*at)
                    ),
                }
            }
            if !events.iter().any(|(_, h)| *h == Happening::GaveUp) {
                println!("  the supervisor is still running");
            }
        }
    });
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
