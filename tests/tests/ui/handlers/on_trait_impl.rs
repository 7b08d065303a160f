use supervise::{handlers, Context, Exit, Worker};

struct Cache;

#[handlers]
impl Worker for Cache {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Ok(())
    }
}

fn main() {}
