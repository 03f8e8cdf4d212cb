// Previous / next for a paged list, shown only when there is more than one page.
export function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (page: number) => void }) {
  if (pages <= 1) return null;
  return (
    <p>
      <button className="link" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>{' '}
      page {page} of {pages}{' '}
      <button className="link" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </p>
  );
}
