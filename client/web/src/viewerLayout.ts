/**
 * The viewer page's phone layout (src/phone.css does the rest): the video fills the screen, and
 * what floats over it (the top bar with its notices, the comment box at the bottom, the comments
 * and the pinned card above it) is placed from the sizes measured here, as CSS variables on <body>:
 * `--top-h` (the top bar and its banners), `--dock-h` (the comment box), `--card-h` (the pinned card).
 * The <video> says whether it plays a portrait or a landscape stream (`data-orientation` on #video):
 * a portrait one fills the phone's screen, a landscape one is shown whole.
 */
export function startViewerLayout(): void {
  const body = document.body;
  const measure = (el: Element | null, variable: string) => {
    if (el === null) return;
    const set = () => body.style.setProperty(variable, `${Math.ceil(el.getBoundingClientRect().height)}px`);
    new ResizeObserver(set).observe(el);
    set();
  };
  measure(document.querySelector('.top-stack'), '--top-h');
  measure(document.getElementById('comment-form'), '--dock-h');
  measure(document.getElementById('card'), '--card-h');

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
