// The resume window of one connection (docs/protocol.md, "Resume with sync"). Between our `sync`
// and the server's `synced`, live messages can overtake the replay; the server re-sends them in
// order, so a listed room accepts only the seq right after the last one it accepted.

export class ResumeGate {
  constructor() {
    this.last = null;   // room id -> last accepted seq, while a sync is answered
  }

  /** Opens the window with the `rooms` map just sent in `sync`. */
  begin(rooms) {
    this.last = new Map(Object.entries(rooms).map(([id, seq]) => [Number(id), seq]));
  }

  /** Closes the window (`synced` arrived, or the connection dropped). */
  end() {
    this.last = null;
  }

  /** A `resync` replaced the replay of a room: live delivery goes on after `seq`. */
  skipTo(roomId, seq) {
    if (this.last?.has(roomId)) this.last.set(roomId, seq);
  }

  /** Whether to take a message now; false means the replay will bring it (again) in order. */
  accept(roomId, seq) {
    const last = this.last?.get(roomId);
    if (last === undefined) return true;
    if (seq !== last + 1) return false;
    this.last.set(roomId, seq);
    return true;
  }
}
