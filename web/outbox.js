// Unsent work that must survive a reload, in IndexedDB: messages (with the image or voice bytes
// while they are not uploaded yet) and edits, per user, in the order they were made. When
// IndexedDB is unavailable (some private modes) it lives in memory, as long as the page.

const DB_NAME = 'chat';
const STORE = 'outbox';

/**
 * A record: { key, user, order, kind: 'send' | 'edit', room_id, body, … }.
 * `send` also has client_id, reply_to, and either media (uploaded) or blob + mime (not yet);
 * `edit` has seq. Keys: `s:<client_id>` for sends, `e:<room>:<seq>` for edits (a newer edit
 * of the same message replaces the older one).
 */
export class Outbox {
  /** Opens the outbox of one user. */
  static async open(userId) {
    let db = null;
    try {
      db = await openDb();
    } catch {
      db = null;
    }
    return new Outbox(userId, db);
  }

  constructor(userId, db) {
    this.user = userId;
    this.db = db;
    this.memory = new Map();
    this.counter = 0;
  }

  /** This user's records, oldest first. */
  async all() {
    if (!this.db) return [...this.memory.values()];
    const rows = await request(this.tx('readonly').index('user').getAll(this.user));
    return rows.sort((a, b) => a.order - b.order);
  }

  /** Stores a record (a new one gets its place at the end). */
  async put(record) {
    record.user = this.user;
    record.order ??= Date.now() * 1000 + (this.counter++ % 1000);
    if (!this.db) { this.memory.set(record.key, record); return; }
    await request(this.tx('readwrite').put(record));
  }

  async delete(key) {
    if (!this.db) { this.memory.delete(key); return; }
    await request(this.tx('readwrite').delete(key));
  }

  /** Forgets everything of this user (log-out). */
  async clear() {
    for (const record of await this.all()) await this.delete(record.key);
  }

  tx(mode) {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore(STORE, { keyPath: 'key' });
      store.createIndex('user', 'user');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('blocked'));
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
