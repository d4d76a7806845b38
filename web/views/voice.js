// Voice messages: recording with MediaRecorder (Opus in WebM) and a small player.

import { h, icon } from '../util/dom.js';
import { formatDuration } from '../util/format.js';

const PREFERRED = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'];

/** Starts recording from the microphone. Resolves to { stop(): Promise<Blob>, cancel(), elapsed() }. */
export async function startRecording() {
  if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) throw new Error('Recording is not supported in this browser.');
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
 * A play/pause control with progress for an audio URL. The bytes are fetched into a blob so the
 * element can seek freely; WebM from MediaRecorder has no duration in its header (the element
 * reports Infinity), so we seek to the end once to make the browser compute it.
 */
export function voicePlayer(url) {
  const audio = h('audio', { preload: 'metadata', class: 'voice-audio', 'data-testid': 'voice-audio' });
  const playIcon = icon('play');
  const button = h('button', { type: 'button', class: 'icon-btn voice-play', 'aria-label': 'Play voice message', 'data-testid': 'voice-play', disabled: true }, playIcon);
  const range = h('input', { type: 'range', class: 'voice-range', min: '0', max: '1000', value: '0', step: '1', 'aria-label': 'Position', disabled: true });
  const time = h('span', { class: 'voice-time', 'data-testid': 'voice-time' }, '0:00');
  const el = h('div', { class: 'voice', 'data-testid': 'voice' }, button, range, time, audio);
  let fixing = false;

  const duration = () => (Number.isFinite(audio.duration) ? audio.duration : 0);
  function update() {
    const d = duration();
    const t = audio.currentTime;
    range.value = d ? String(Math.round((t / d) * 1000)) : '0';
    range.style.setProperty('--progress', `${d ? (t / d) * 100 : 0}%`);
    time.textContent = formatDuration(audio.paused && t === 0 ? d : t);
  }
  function setPlaying(playing) {
    button.replaceChildren(icon(playing ? 'pause' : 'play'));
    button.setAttribute('aria-label', playing ? 'Pause voice message' : 'Play voice message');
    el.classList.toggle('playing', playing);
  }

  audio.addEventListener('loadedmetadata', () => {
    if (!Number.isFinite(audio.duration)) {
      fixing = true;
      audio.currentTime = 1e101;
    } else {
      ready();
    }
  });
  const settle = () => {
    if (fixing && Number.isFinite(audio.duration)) {
      fixing = false;
      audio.currentTime = 0;
      ready();
    }
    update();
  };
  audio.addEventListener('durationchange', settle);
  audio.addEventListener('timeupdate', settle);
  audio.addEventListener('play', () => setPlaying(true));
  audio.addEventListener('pause', () => setPlaying(false));
  audio.addEventListener('ended', () => { setPlaying(false); audio.currentTime = 0; update(); });
  function ready() {
    button.disabled = false;
    range.disabled = false;
    el.dataset.ready = 'true';
    update();
  }

  button.addEventListener('click', () => {
    if (audio.paused) audio.play().catch(() => setPlaying(false));
    else audio.pause();
  });
  range.addEventListener('input', () => {
    const d = duration();
    if (d) audio.currentTime = (Number(range.value) / 1000) * d;
  });

  fetch(url, { credentials: 'same-origin' })
    .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(String(res.status)))))
    .then((blob) => { audio.src = URL.createObjectURL(blob); })
    .catch(() => { time.textContent = 'unavailable'; });
  return el;
}
