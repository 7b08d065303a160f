use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call(deadline = "5s")]
    fn size(&mut self) -> usize {
        0
    }
}

fn main() {}
