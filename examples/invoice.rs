//! The "Basic Supervisor" of seed 002: an `InvoiceProcessor` that crashes
//! on 30% of requests, under an `InvoiceSupervisor` (one_for_one),
//! declared in [`examples::invoice`]. A caller sends 1,000 invoices through
//! the processor's typed handle, each with a deadline (`call_timeout`):
//! every invoice gets an answer, or a typed error (`HandleError::Lost`
//! when the processor crashed on it), never a hang, and the processor is
//! up at the end.
//!
//! How the intensity was chosen: each invoice takes 10 ms, so the caller
//! sends 100 a second and 30% of them crash: 30 restarts a second on
//! average, with bursts (the worst one-second window here holds 39). The
//! supervisor takes 60 restarts per 1-second window: above the worst
//! burst of a healthy run, below the 100 a second of a processor that
//! crashes on every invoice, which would still make it give up. With
//! Elixir's default (3 restarts in 5 s) it gives up at the fourth crash,
//! which the second run shows (with 12 invoices: after the give-up the
//! tree is gone for good, and every later call fails at once with
//! `NotFound`).
//!
//! It runs on a simulated clock (tokio's paused clock; the 1,000 invoices
//! take 10 simulated seconds) and finishes at once; with `-- --real-time`
//! it runs on the real clock (about 15 seconds).
//!
//! ```text
//! cargo run -p examples --example invoice
//! ```

use std::time::Duration;

use examples::invoice::{
    crashes_on, send_invoices, worst_burst, DefaultIntensity, InvoiceProcessor, InvoiceSupervisor,
};

const INVOICES: u64 = 1_000;

fn main() {
    let real_time = std::env::args().any(|a| a == "--real-time");
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    runtime.enable_time();
    if !real_time {
        runtime.start_paused(true);
    }
    let runtime = runtime.build().expect("a runtime");
    runtime.block_on(async {
        let crashing = (1..=INVOICES).filter(|&id| crashes_on(id)).count();
        println!(
            "{crashing} of invoices 1..={INVOICES} crash the processor; the worst \
             one-second window holds {} crashes.",
            worst_burst(INVOICES, Duration::from_secs(1))
        );

        println!("\nInvoiceSupervisor: one_for_one, max_restarts 60 within 1 s");
        let app = InvoiceSupervisor {
            invoice_processor: InvoiceProcessor::default(),
        }
        .start()
        .await
        .expect("the tree starts");
        let t0 = tokio::time::Instant::now();
        let outcome = send_invoices(&app.invoice_processor, INVOICES).await;
        println!(
            "  {} invoices in {:.2} s: {} processed, {} lost with a crashing processor, \
             {} timed out, {} other errors",
            outcome.total(),
            t0.elapsed().as_secs_f64(),
            outcome.processed,
            outcome.lost,
            outcome.timed_out,
            outcome.not_found + outcome.other
        );
        let root = app.supervisor().current().expect("the supervisor runs");
        let processor = app.invoice_processor.child().expect("the processor is up");
        println!(
            "  at the end the processor is up (start #{}), its supervisor did not give up: {}",
            processor.incarnation(),
            !root.gave_up()
        );
        app.stop().await.expect("the tree stops");

        println!("\nThe same with Elixir's default intensity (3 restarts within 5 s), 12 invoices");
        let (spec, app) = DefaultIntensity {
            invoice_processor: InvoiceProcessor::default(),
        }
        .spec();
        let root = spec.start().await.expect("the tree starts");
        let outcome = send_invoices(&app.invoice_processor, 12).await;
        println!(
            "  the supervisor gave up: {}, at the fourth crash (invoice {}); {} processed, \
             {} lost, then {} not found (the tree is gone for good: nothing waits)",
            root.gave_up(),
            outcome.failed.get(3).copied().unwrap_or_default(),
            outcome.processed,
            outcome.lost,
            outcome.not_found
        );
    });
}
