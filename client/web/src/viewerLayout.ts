/**
 * The viewer page's phone layout (src/phone.css does the rest): the video fills the screen, and
 * what floats over it (the top bar with its notices, the comment box at the bottom, the comments
 * and the pinned card above it) is placed from the sizes measured here, as CSS variables on <body>:
 * `--top-h` (the top bar and its banners), `--dock-h` (the comment box), `--card-h` (the pinned card, or the note that nothing is).
 * The <video> says whether it plays a portrait or a landscape stream (`data-orientation` on #video):
 * a portrait one fills the phone's screen, a landscape one is shown whole.
 */
export function startViewerLayout(): void {
  const body = document.body;
  // The tallest of `els` (a hidden one measures 0): the pinned card and its "nothing pinned" note share a place.
  const measure = (variable: string, ...els: (Element | null)[]) => {
    const present = els.filter((el): el is Element => el !== null);
    if (present.length === 0) return;
    const set = () => body.style.setProperty(variable, `${Math.ceil(Math.max(...present.map((el) => el.getBoundingClientRect().height)))}px`);
    const observer = new ResizeObserver(set);
    for (const el of present) observer.observe(el);
    set();
  };
  measure('--top-h', document.querySelector('.top-stack'));
  measure('--dock-h', document.getElementById('comment-form'));
  measure('--card-h', document.getElementById('card'), document.getElementById('no-card'));

  const video = document.getElementById('video');
  const player = document.getElementById('player');
  if (video !== null && player instanceof HTMLVideoElement) {
    const orient = () => {
      const { videoWidth: w, videoHeight: h } = player;
      video.dataset.orientation = w === 0 || h === 0 ? 'unknown' : h > w ? 'portrait' : 'landscape';
    };
    player.addEventListener('loadedmetadata', orient);
    player.addEventListener('resize', orient);
    orient();
  }
}
