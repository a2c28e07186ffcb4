/**
 * The streamer page at phone width (src/phone.css does the rest): the products panel becomes a
 * sheet opened from a dock at the bottom of the screen ("Products", one tap), and the live
 * comments move over the camera preview (back into the comments panel on a wide screen). The page's
 * own code keeps working on the same elements: only where they sit changes.
 */
import { h } from './common.ts';
import { t } from './i18n.ts';
import { Sheet } from './sheet.ts';

const PHONE = '(max-width: 899px)';

export function startStreamerLayout(): void {
  const products = document.getElementById('products');
  const chat = document.getElementById('chat');
  const comments = document.getElementById('comments');
  const previewBox = document.getElementById('preview-box');
  if (products === null || chat === null || comments === null || previewBox === null) return;

  const productsButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'products-button', 'aria-controls': 'products' }, t('studio.products'));
  const chatButton = h('button', { type: 'button', 'data-testid': 'chat-button' }, t('studio.comments'));
  const dock = h('nav', { class: 'studio-dock', 'aria-label': t('studio.dockLabel') }, productsButton, chatButton);
  document.body.append(dock);

  const sheet = new Sheet(products, { opener: productsButton, focus: document.getElementById('products-title') ?? undefined, when: PHONE, wide: 'bottom' });
  productsButton.addEventListener('click', () => sheet.toggle());
  chatButton.addEventListener('click', () => {
    sheet.close();
    (phone.matches ? previewBox : chat).scrollIntoView({ behavior: 'smooth', block: 'start' });
    document.getElementById('comment-input')?.focus({ preventScroll: true });
  });

  // The comments list sits over the preview on a phone; in the comments panel otherwise.
  const home = comments.nextElementSibling;
  const phone = matchMedia(PHONE);
  const place = () => {
    if (phone.matches) {
      if (comments.parentElement !== previewBox) previewBox.append(comments);
    } else if (comments.parentElement !== chat) chat.insertBefore(comments, home);
    comments.scrollTop = comments.scrollHeight;
  };
  phone.addEventListener('change', place);
  place();
}
