// Voice messages: recording with MediaRecorder (Opus in WebM) and a small player.

import { h, icon } from '../util/dom.js';
import { formatDuration } from '../util/format.js';
import { t } from '../i18n.js';

const PREFERRED = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'];

/** Starts recording from the microphone. Resolves to { stop(): Promise<Blob>, cancel(), elapsed() }. */
export async function startRecording() {
  if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) throw new Error(t('voice.unsupported'));
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const mimeType = PREFERRED.find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks = [];
  const started = performance.now();
  recorder.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
  const done = new Promise((resolve) => recorder.addEventListener('stop', () => {
    for (const track of stream.getTracks()) track.stop();
    resolve(new Blob(chunks, { type: recorder.mimeType || mimeType || 'audio/webm' }));
  }));
  recorder.start(250);
  return {
    elapsed: () => (performance.now() - started) / 1000,
    stop() {
      if (recorder.state !== 'inactive') recorder.stop();
      return done;
    },
    cancel() {
      if (recorder.state !== 'inactive') recorder.stop();
    },
  };
}

/**
 * A play/pause control with progress for an audio URL. Nothing is downloaded until the first
 * press of play: then the bytes are fetched into a blob (so the element can seek freely) and
 * played. WebM from MediaRecorder has no duration in its header (the element reports Infinity),
 * so we seek to the end once to make the browser compute it. Returns { el, dispose } — dispose
 * releases the blob's object URL.
 */
export function voicePlayer(url, durationMs) {
  const audio = h('audio', { preload: 'none', class: 'voice-audio', 'data-testid': 'voice-audio' });
  const button = h('button', { type: 'button', class: 'icon-btn voice-play', 'aria-label': t('voice.play'), 'data-testid': 'voice-play' }, icon('play'));
  const range = h('input', { type: 'range', class: 'voice-range', min: '0', max: '1000', value: '0', step: '1', 'aria-label': t('voice.position'), disabled: true });
  // The server reads the duration from the container: shown before anything is fetched.
  const known = Number.isFinite(durationMs) && durationMs > 0 ? durationMs / 1000 : 0;
  const time = h('span', { class: 'voice-time', 'data-testid': 'voice-time' }, formatDuration(known));
  const el = h('div', { class: 'voice', 'data-testid': 'voice' }, button, range, time, audio);
  let objectUrl = null;
  let loading = null;
  let fixing = false;

  const duration = () => (Number.isFinite(audio.duration) ? audio.duration : 0);
  function update() {
    const d = duration();
    const now = audio.currentTime;
    range.value = d ? String(Math.round((now / d) * 1000)) : '0';
    range.style.setProperty('--progress', `${d ? (now / d) * 100 : 0}%`);
    time.textContent = formatDuration(audio.paused && now === 0 ? d : now);
  }
  function setPlaying(playing) {
    button.replaceChildren(icon(playing ? 'pause' : 'play'));
    button.setAttribute('aria-label', playing ? t('voice.pause') : t('voice.play'));
    el.classList.toggle('playing', playing);
  }

  /** Fetches the bytes and resolves once the duration is known. */
  function load() {
    loading ??= fetch(url, { credentials: 'same-origin' })
      .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(String(res.status)))))
      .then((blob) => new Promise((resolve, reject) => {
        objectUrl = URL.createObjectURL(blob);
        const ready = () => {
          range.disabled = false;
          el.dataset.ready = 'true';
          update();
          resolve();
        };
        audio.addEventListener('loadedmetadata', () => {
          if (Number.isFinite(audio.duration)) { ready(); return; }
          fixing = true;
          audio.currentTime = 1e101;
        }, { once: true });
        audio.addEventListener('durationchange', () => {
          if (fixing && Number.isFinite(audio.duration)) {
            fixing = false;
            audio.currentTime = 0;
            ready();
          }
        });
        audio.addEventListener('error', () => reject(new Error('undecodable')), { once: true });
        audio.preload = 'auto';
        audio.src = objectUrl;
      }));
    return loading;
  }

  audio.addEventListener('timeupdate', () => { if (!fixing) update(); });
  audio.addEventListener('play', () => setPlaying(true));
  audio.addEventListener('pause', () => setPlaying(false));
  audio.addEventListener('ended', () => { setPlaying(false); audio.currentTime = 0; update(); });

  button.addEventListener('click', async () => {
    if (!audio.paused) { audio.pause(); return; }
    try {
      button.disabled = true;
      await load();
      await audio.play();
    } catch {
      time.textContent = t('voice.unavailable');
      loading = null;
      setPlaying(false);
    } finally {
      button.disabled = false;
    }
  });
  range.addEventListener('input', () => {
    const d = duration();
    if (d) audio.currentTime = (Number(range.value) / 1000) * d;
  });

  return {
    el,
    dispose() {
      audio.pause();
      audio.removeAttribute('src');
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
    },
  };
}
