//! The "Basic Supervisor" of seed 002 (*Supervisor Trees*): an
//! `InvoiceProcessor` that crashes on 30% of requests, under an
//! `InvoiceSupervisor` (one_for_one).
//!
//! The seed draws the crashes with `:rand.uniform() > 0.7`; here a seeded
//! hash of the invoice number decides ([`crashes_on`]), so a run is
//! reproducible: 309 of invoices 1 to 1,000 crash.
//!
//! # The restart intensity
//!
//! A crash that happens on 30% of *requests* makes restarts a *rate*: 30%
//! of the request rate. Each invoice takes [`WORK`] (10 ms) to process, so
//! one caller sends 100 invoices a second and causes 30 restarts a second
//! on average, in bursts: with these invoice numbers the most crashes in
//! any one-second window (101 consecutive invoices, the window's edge
//! being inclusive) is 39 ([`worst_burst`]).
//!
//! * Elixir's default, 3 restarts in 5 seconds, cannot work: the fourth
//!   crash, a fraction of a second in, makes the supervisor give up
//!   ([`DefaultIntensity`] shows it).
//! * The window should be short, so that it measures the current rate
//!   rather than the history, and the limit above the worst burst of a
//!   healthy run but below the rate of a processor that is broken for
//!   good: [`InvoiceSupervisor`] takes 60 restarts per second, 1.5 times
//!   the worst burst and twice the mean. A processor that crashed on every
//!   invoice (100 a second) would exceed it 0.61 s in (the 61st restart)
//!   and the supervisor would give up, escalating as it should.

use std::time::Duration;

use supervise::{handlers, worker, Exit, HandleError, Supervisor, WorkerHandle};

/// How long processing one invoice takes.
pub const WORK: Duration = Duration::from_millis(10);

/// How long the caller waits for each answer, through a restart if need
/// be: far above [`WORK`], so that only a processor that is gone makes a
/// call time out.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// An invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoice {
    /// Its number.
    pub id: u64,
    /// Its amount, in cents.
    pub amount: u64,
}

/// The seed's `%{invoice_id: id, status: :completed}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// The invoice's number.
    pub invoice_id: u64,
}

/// Whether processing invoice `id` crashes: a seeded hash of the number
/// (splitmix64), below 30 out of 100.
pub fn crashes_on(id: u64) -> bool {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 100 < 30
}

/// The most crashes within any window of `window` among invoices `1..=n`
/// sent one after the other, each taking [`WORK`] (the window's edge is
/// inclusive, as the supervisor's is).
pub fn worst_burst(n: u64, window: Duration) -> usize {
    let per_window = (window.as_nanos() / WORK.as_nanos()) as u64 + 1;
    (1..=n)
        .map(|last| {
            let first = last.saturating_sub(per_window - 1).max(1);
            (first..=last).filter(|&id| crashes_on(id)).count()
        })
        .max()
        .unwrap_or(0)
}

/// The invoice processor: processes one invoice at a time, and crashes on
/// the invoices of [`crashes_on`].
#[worker]
#[derive(Clone, Debug, Default)]
pub struct InvoiceProcessor {
    /// Crashes on every invoice instead: a processor broken for good.
    pub broken: bool,
}

#[handlers]
impl InvoiceProcessor {
    /// `InvoiceProcessor.process(invoice)`. A crash is an `Err`: the
    /// processor exits with it, and the caller, whose reply goes with the
    /// incarnation, gets `HandleError::Lost`.
    #[call]
    async fn process(&mut self, invoice: Invoice) -> Result<Processed, Exit> {
        tokio::time::sleep(WORK).await;
        if self.broken || crashes_on(invoice.id) {
            return Err(format!("Processing failed (invoice {})", invoice.id).into());
        }
        Ok(Processed {
            invoice_id: invoice.id,
        })
    }
}

/// `InvoiceSupervisor`, with an intensity chosen for a 30% crash rate
/// (see the module's docs): 60 restarts per second.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = one_for_one, max_restarts = 60, max_seconds = 1)]
pub struct InvoiceSupervisor {
    /// The processor.
    pub invoice_processor: InvoiceProcessor,
}

/// The same supervisor with Elixir's default intensity (3 restarts in 5
/// seconds), which a 30% crash rate exceeds at once.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = one_for_one, name = "invoice_supervisor")]
pub struct DefaultIntensity {
    /// The processor.
    pub invoice_processor: InvoiceProcessor,
}

/// What the caller got for its invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Answered: processed.
    pub processed: u64,
    /// [`HandleError::Lost`]: the processor crashed on it.
    pub lost: u64,
    /// [`HandleError::Timeout`]: no processor answered in time.
    pub timed_out: u64,
    /// [`HandleError::NotFound`]: the processor is gone for good.
    pub not_found: u64,
    /// Any other error.
    pub other: u64,
    /// The invoice numbers that got an error, in order.
    pub failed: Vec<u64>,
}

impl Outcome {
    /// Every invoice got an answer or an error.
    pub fn total(&self) -> u64 {
        self.processed + self.lost + self.timed_out + self.not_found + self.other
    }
}

/// Sends invoices `1..=n` through `processor`, one after the other, each
/// with [`CALL_TIMEOUT`]: every one gets an answer or a typed error. (The
/// generated `InvoiceProcessorApi::process` waits as long as the processor
/// lives; a deadline is `call_timeout` with the generated message.)
pub async fn send_invoices(processor: &WorkerHandle<InvoiceProcessor>, n: u64) -> Outcome {
    let mut outcome = Outcome::default();
    for id in 1..=n {
        let invoice = Invoice {
            id,
            amount: 100 * id,
        };
        let result = processor
            .call_timeout(
                |reply| InvoiceProcessorMessage::Process(invoice, reply),
                CALL_TIMEOUT,
            )
            .await;
        match result {
            Ok(done) => {
                assert_eq!(done.invoice_id, id);
                outcome.processed += 1;
                continue;
            }
            Err(HandleError::Lost) => outcome.lost += 1,
            Err(HandleError::Timeout) => outcome.timed_out += 1,
            Err(HandleError::NotFound) => outcome.not_found += 1,
            Err(_) => outcome.other += 1,
        }
        outcome.failed.push(id);
    }
    outcome
}
