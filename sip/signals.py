from django.dispatch import Signal

# Sent after the transaction that marked a meeting held has committed; kwargs: meeting_id, actor_id.
# The delaktighet questionnaire listens to it to invite the person and närstående who attended.
meeting_held = Signal()
