//! Seed 002's invoice processor (`examples::invoice`): 30% of requests
//! crash it; 1,000 invoices each get an answer or a typed error, never a
//! hang, and the processor is up at the end.

use std::time::Duration;

use examples::invoice::{
    crashes_on, send_invoices, worst_burst, DefaultIntensity, Invoice, InvoiceProcessor,
    InvoiceProcessorMessage, InvoiceSupervisor, Processed, CALL_TIMEOUT, WORK,
};

const INVOICES: u64 = 1_000;

fn crashing(n: u64) -> Vec<u64> {
    (1..=n).filter(|&id| crashes_on(id)).collect()
}

#[test]
fn about_thirty_percent_of_invoices_crash_and_the_intensity_covers_the_worst_burst() {
    assert_eq!(crashing(INVOICES).len(), 309);
    // 60 restarts per second (InvoiceSupervisor) is above the worst burst
    // of a one-second window, and below the 100 a second of a processor
    // that would crash on every invoice.
    let burst = worst_burst(INVOICES, Duration::from_secs(1));
    assert_eq!(burst, 39);
    assert!(burst < 60 && 60 < Duration::from_secs(1).as_millis() / WORK.as_millis());
}

#[tokio::test(start_paused = true)]
async fn a_thousand_invoices_each_get_an_answer_or_a_typed_error_and_the_processor_is_up() {
    let app = InvoiceSupervisor::default().start().await.unwrap();
    let t0 = tokio::time::Instant::now();
    let outcome = send_invoices(&app.invoice_processor, INVOICES).await;
    // Nobody waited on a restart: 10 ms of work per invoice, no more.
    assert_eq!(t0.elapsed(), WORK * INVOICES as u32);
    assert_eq!(outcome.total(), INVOICES);
    assert_eq!(outcome.failed, crashing(INVOICES));
    assert_eq!(outcome.lost, 309);
    assert_eq!(outcome.processed, INVOICES - 309);
    assert_eq!(outcome.timed_out + outcome.not_found + outcome.other, 0);

    let root = app.supervisor().current().unwrap();
    assert!(!root.gave_up());
    let processor = app.invoice_processor.child().expect("the processor is up");
    assert_eq!(processor.incarnation(), 310);
    let fine = (INVOICES + 1..).find(|&id| !crashes_on(id)).unwrap();
    let invoice = Invoice {
        id: fine,
        amount: 1,
    };
    assert_eq!(
        app.invoice_processor
            .call_timeout(
                |reply| InvoiceProcessorMessage::Process(invoice, reply),
                CALL_TIMEOUT
            )
            .await,
        Ok(Processed { invoice_id: fine })
    );
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn with_elixirs_default_intensity_the_supervisor_gives_up_at_the_fourth_crash() {
    let (spec, app) = DefaultIntensity::default().spec();
    let root = spec.start().await.unwrap();
    let outcome = send_invoices(&app.invoice_processor, 12).await;
    let fourth = crashing(12)[3];
    assert!(root.gave_up());
    assert_eq!(outcome.failed.get(3), Some(&fourth));
    assert_eq!(outcome.lost, 4);
    assert_eq!(outcome.processed, fourth - 4);
    // After the give-up the tree is gone for good: every later call ends at
    // once with `NotFound`, none waits for its deadline.
    assert_eq!(outcome.not_found, 12 - fourth);
    assert_eq!(outcome.timed_out, 0);
    assert_eq!(outcome.total(), 12);
}

#[tokio::test(start_paused = true)]
async fn a_processor_broken_for_good_still_makes_the_supervisor_give_up() {
    let (spec, app) = InvoiceSupervisor {
        invoice_processor: InvoiceProcessor { broken: true },
    }
    .spec();
    let mut events = spec.subscribe();
    let t0 = tokio::time::Instant::now();
    let root = spec.start().await.unwrap();
    let outcome = send_invoices(&app.invoice_processor, 100).await;
    // 100 crashes a second: the 61st restart within one second, 0.61 s in,
    // exceeds the 60 allowed.
    assert!(root.gave_up());
    assert_eq!(outcome.lost, 61);
    assert_eq!(outcome.not_found, 39);
    assert_eq!(outcome.timed_out, 0);
    let mut gave_up_at = None;
    while let Some((at, event)) = events.try_recv_timed() {
        if let supervise::Event::GaveUp { .. } = event {
            gave_up_at = Some(at - t0);
        }
    }
    assert_eq!(gave_up_at, Some(Duration::from_millis(610)));
}
