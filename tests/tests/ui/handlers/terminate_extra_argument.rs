use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[terminate]
    fn flush(&mut self, count: u64) {
        let _ = count;
    }
}

fn main() {}
