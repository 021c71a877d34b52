// Cursor pagination is shared with the alerts service.
export {
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  MAX_INT,
  MAX_PAGE_SIZE,
  type Page,
  toPage,
} from "@apimon/http";
