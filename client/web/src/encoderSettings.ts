/**
 * The streamer's "Stream from OBS" panel: the room's WHIP URL, RTMP server and stream key (hidden
 * until shown), each with a copy button, and rotating the key. Loaded when the panel is opened,
 * so the key is not fetched (or shown) unless the streamer asks for it.
 */
import { api, byId, errorText, say, setText, show } from './common.ts';
import { t } from './i18n.ts';

interface StreamKeyAnswer {
  key: string;
  whip: { url: string; bearerToken: string };
  rtmp: { server: string; streamKey: string } | null;
}

export function wireEncoderSettings(token: string, roomId: string): void {
  const panel = byId<HTMLDetailsElement>('encoder');
  const status = byId('encoder-status');
  const whipUrl = byId<HTMLInputElement>('whip-url');
  const rtmpServer = byId<HTMLInputElement>('rtmp-server');
  const rtmpRow = byId('rtmp-row');
  const rtmpLabel = byId('rtmp-label');
  const rtmpOff = byId('rtmp-off');
  const key = byId<HTMLInputElement>('stream-key');
  const reveal = byId<HTMLButtonElement>('stream-key-reveal');
  const rotate = byId<HTMLButtonElement>('stream-key-rotate');
  const path = `/api/rooms/${encodeURIComponent(roomId)}/stream-key`;
  let loaded = false;

  const render = (answer: StreamKeyAnswer) => {
    whipUrl.value = answer.whip.url;
    key.value = answer.key;
    show(rtmpRow, answer.rtmp !== null);
    show(rtmpLabel, answer.rtmp !== null);
    show(rtmpOff, answer.rtmp === null);
    if (answer.rtmp !== null) rtmpServer.value = answer.rtmp.server;
  };
  const load = async () => {
    try {
      render(await api<StreamKeyAnswer>(path, { token }));
      loaded = true;
      say(status, '');
    } catch (error) {
      say(status, t('encoder.readFailed', { why: errorText(error) }), 'error');
    }
  };

  panel.addEventListener('toggle', () => {
    if (panel.open && !loaded) void load();
  });
  reveal.addEventListener('click', () => {
    const hidden = key.type === 'password';
    key.type = hidden ? 'text' : 'password';
    setText(reveal, hidden ? t('encoder.hide') : t('encoder.show'));
    reveal.setAttribute('aria-pressed', String(hidden));
  });
  rotate.addEventListener('click', async () => {
    if (!confirm(t('encoder.confirmRotate'))) return;
    rotate.disabled = true;
    try {
      render(await api<StreamKeyAnswer>(`${path}/rotate`, { method: 'POST', token }));
      say(status, t('encoder.rotated'), 'ok');
    } catch (error) {
      say(status, t('encoder.rotateFailed', { why: errorText(error) }), 'error');
    } finally {
      rotate.disabled = false;
    }
  });
  panel.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((button) => {
    button.addEventListener('click', async () => {
      const field = byId<HTMLInputElement>(button.dataset.copy!);
      try {
        await navigator.clipboard.writeText(field.value);
        say(status, t('encoder.copied'), 'ok');
      } catch {
        // No clipboard (an insecure page, a refused permission): select it for the user to copy.
        field.select();
        say(status, t('encoder.pressCopy'), 'info');
      }
    });
  });
}
