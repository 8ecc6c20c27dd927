/* Confrères comment widget: written by the comment-service issue (see _comments.html for the mount). */
