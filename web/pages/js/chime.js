// chime.js: the two-tone call chime, synthesised with WebAudio (no audio files to ship).
let ctx = null;

function context() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  return ctx;
}

// True when the browser still blocks sound until someone touches the screen (autoplay policy).
export function chimeBlocked() {
  const c = context();
  return !c || c.state !== "running";
}

export function unlockChime() {
  const c = context();
  return c ? c.resume() : Promise.resolve();
}

function tone(c, freq, start, length) {
  const osc = c.createOscillator();
  const gain = c.createGain();
  osc.type = "sine";
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.5, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
  osc.connect(gain).connect(c.destination);
  osc.start(start);
  osc.stop(start + length + 0.05);
}

// "Ding-dong": a high tone then a lower one, like a hall's call bell.
export function playChime() {
  const c = context();
  if (!c) return;
  if (c.state !== "running") c.resume().catch(() => {});
  const t = c.currentTime + 0.05;
  tone(c, 784, t, 0.9);         // G5
  tone(c, 587.33, t + 0.45, 1.3); // D5
}
